print("spark-image-tool: under construction")
