import Foundation
import OCI
import Spark
import Store

/// What `build` is asked for, in docker-image-tool.sh's terms.
public struct SparkBuildOptions: Sendable {
    public var sparkHome: String
    /// `-r`: prefixed to the image names.
    public var repository: String?
    /// `-t`: nil tags the images `latest`, as docker does.
    public var tag: String?
    /// The images to build, in order; bindings are built on the JVM image.
    public var variants: [ImageVariant]
    /// `-f`, `-p`, `-R`: Dockerfiles of the user's; the built-in ones otherwise.
    public var dockerfiles: [ImageVariant: String]
    /// `--base`: replaces the JVM image's base.
    public var base: String?
    /// `-b`, repeatable.
    public var buildArgs: [String: String]
    /// `-u`: the build arg spark_uid.
    public var sparkUID: String?
    public var format: ManifestFormat
    /// One platform builds a manifest; several build an image index (`-X`).
    public var platforms: [Platform]
    /// The image checks' findings fail the build instead of warning (`--strict`).
    public var strict = false
    /// `--secret id=…,src=…`: id → file, for RUN --mount=type=secret.
    public var secrets: [String: String] = [:]
    /// `--label`: put in the image config's labels; `.source` and `.revision` also annotate it.
    public var labels: [String: String] = [:]
    /// `--annotation`: put on each manifest, over what the build would say.
    public var annotations: [String: String] = [:]

    public init(sparkHome: String, repository: String? = nil, tag: String? = nil, variants: [ImageVariant] = [.spark],
                dockerfiles: [ImageVariant: String] = [:], base: String? = nil, buildArgs: [String: String] = [:],
                sparkUID: String? = nil, format: ManifestFormat = .oci, platforms: [Platform] = [.host]) {
        self.sparkHome = sparkHome
        self.repository = repository
        self.tag = tag
        self.variants = variants
        self.dockerfiles = dockerfiles
        self.base = base
        self.buildArgs = buildArgs
        self.sparkUID = sparkUID
        self.format = format
        self.platforms = platforms
    }

    /// `REPO/NAME:TAG`, as docker-image-tool.sh names its images.
    public func reference(for variant: ImageVariant) throws -> ImageReference {
        if let tag {
            do { try ImageReference.validate(tag: tag) } catch {
                throw BuildError("invalid tag '\(tag)' (-t): a tag is 1 to 128 characters of A-Z a-z 0-9 _ . - and does not start with . or -")
            }
        }
        let name = [repository, variant.rawValue].compactMap { $0 }.joined(separator: "/") + (tag.map { ":\($0)" } ?? "")
        do { return try ImageReference(parsing: name) } catch {
            throw BuildError("invalid image name '\(name)' from -r '\(repository ?? "")': \(error)",
                             hint: "-r takes a registry and repository path such as registry.example.com/spark")
        }
    }
}

/// Builds the Spark images of a distribution: spark first, then the bindings on top of it.
public struct SparkImageBuild: Sendable {
    public let builder: ImageBuilder

    public init(builder: ImageBuilder) { self.builder = builder }

    public func run(_ options: SparkBuildOptions) throws -> [BuiltImage] {
        let distribution = try SparkDistribution.locate(home: options.sparkHome)
        let references = try options.variants.map(options.reference(for:))
        for variant in options.variants where !distribution.variants.contains(variant) && options.dockerfiles[variant] == nil {
            throw BuildError("cannot build \(variant.rawValue): \(distribution.root) has no \(variant == .sparkPy ? "python/" : "R/") bindings",
                             hint: "use a Spark release that includes them, or leave \(variant.rawValue) out")
        }
        let sparkReference = try options.reference(for: .spark)
        var results: [BuiltImage] = []
        for (variant, reference) in zip(options.variants, references) {
            let (text, name) = try dockerfile(for: variant, options: options)
            var args = distribution.buildArgs
            if let uid = options.sparkUID { args["spark_uid"] = uid }
            if variant != .spark { args["base_img"] = sparkReference.description }
            args.merge(options.buildArgs) { _, user in user }
            builder.events(.imageStarted(reference: reference.familiarDescription, dockerfile: name))
            var perPlatform: [BuiltImage] = []
            for platform in options.platforms {
                let request = ImageBuildRequest(
                    dockerfile: text, dockerfileName: name, buildArgs: args,
                    mounts: distribution.contextMounts(usingDefaultDockerfiles: options.dockerfiles[variant] == nil),
                    baseOverride: variant == .spark ? options.base : nil,
                    references: options.platforms.count == 1 ? [reference] : [], format: options.format, platform: platform,
                    annotations: annotations(distribution, options: options), secrets: options.secrets, labels: options.labels)
                perPlatform.append(try builder.build(request))
            }
            try check(perPlatform[0], as: variant, reference: reference, strict: options.strict)
            results.append(options.platforms.count == 1 ? perPlatform[0] : try index(perPlatform, as: reference, options: options))
        }
        return results
    }

    /// Warns (or with `strict` fails) when the image lacks what Spark needs to run in it.
    private func check(_ image: BuiltImage, as variant: ImageVariant, reference: ImageReference, strict: Bool) throws {
        let found = try ImageChecker(store: builder.store).findings(ofManifest: image.manifest.digest, needs: .init(variant))
        guard !found.isEmpty else { return }
        let name = reference.familiarDescription
        if strict {
            _ = try builder.store.untag(reference)
            throw BuildError("\(name) fails its checks (--strict):\n" + found.map { "  - \($0.problem)" }.joined(separator: "\n"),
                             hint: found.map(\.fix).joined(separator: "; "))
        }
        for finding in found { builder.events(.warning("\(name): \(finding.problem)\n  hint: \(finding.fix)")) }
    }

    /// The Spark version, and the creation time only when SOURCE_DATE_EPOCH names one (a fixed
    /// default would claim a date; a clock time would break reproducibility); the commit and
    /// remote of the checkout the distribution is in, unless --label or --annotation say them.
    private func annotations(_ distribution: SparkDistribution, options: SparkBuildOptions) -> [String: String] {
        var annotations: [String: String] = [:]
        annotations[Annotation.version] = distribution.version
        if builder.settings.epoch > 0 { annotations[Annotation.created] = ImageAssembler.timestamp(builder.settings.epoch) }
        if let git = GitCheckout.containing(distribution.root) {
            annotations[Annotation.revision] = git.revision
            annotations[Annotation.source] = git.remote
        }
        for key in [Annotation.source, Annotation.revision] { annotations[key] = options.labels[key] ?? annotations[key] }
        return annotations.merging(options.annotations) { _, given in given }
    }

    /// One image index over the platforms' manifests, tagged as `reference`. The Spark layers
    /// are the same blobs in every manifest: the layer cache keys do not involve the platform.
    private func index(_ images: [BuiltImage], as reference: ImageReference, options: SparkBuildOptions) throws -> BuiltImage {
        let entries = zip(images, options.platforms).map { image, platform in
            Descriptor(mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.size, platform: platform)
        }
        let bytes = try CanonicalJSON.encode(ImageIndex(mediaType: options.format.indexMediaType, manifests: entries))
        let descriptor = Descriptor(mediaType: options.format.indexMediaType, digest: try builder.store.putBlob(bytes), size: Int64(bytes.count))
        try builder.store.tag(descriptor, as: reference)
        builder.events(.imageTagged(reference: reference.familiarDescription, digest: descriptor.digest,
                                    size: images[0].layers.totalSize))
        return BuiltImage(references: [reference], manifest: descriptor, layers: images[0].layers,
                          newLayers: images.reduce(0) { $0 + $1.newLayers }, cachedLayers: images.reduce(0) { $0 + $1.cachedLayers })
    }

    private func dockerfile(for variant: ImageVariant, options: SparkBuildOptions) throws -> (String, String) {
        guard let path = options.dockerfiles[variant] else {
            return (DefaultDockerfiles.dockerfile(for: variant), "\(DefaultDockerfiles.path(for: variant)) (built in)")
        }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        guard let data = FileManager.default.contents(atPath: absolute), let text = String(data: data, encoding: .utf8) else {
            throw BuildError("cannot read Dockerfile \(path)", hint: "check the path given with -f, -p or -R")
        }
        return (text, path)
    }
}
