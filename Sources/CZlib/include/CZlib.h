#pragma once
#include <zlib.h>

// deflateInit2 and inflateInit2 are macros, which Swift cannot call.
int czlib_deflate_init2(z_stream *_Nonnull stream, int level, int window_bits, int mem_level, int strategy);
int czlib_inflate_init2(z_stream *_Nonnull stream, int window_bits);
// crc32_combine takes a z_off_t, whose width depends on the build's large-file macros.
unsigned long czlib_crc32_combine(unsigned long crc1, unsigned long crc2, long long length2);
