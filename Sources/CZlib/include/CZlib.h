#pragma once
#include <zlib.h>

// deflateInit2 and inflateInit2 are macros, which Swift cannot call.
int czlib_deflate_init2(z_stream *_Nonnull stream, int level, int window_bits, int mem_level, int strategy);
int czlib_inflate_init2(z_stream *_Nonnull stream, int window_bits);
