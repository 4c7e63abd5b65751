#pragma once
#include <isa-l/igzip_lib.h>

// ISA-L's inflate state is a large struct with unions Swift cannot initialise; these keep it
// behind an opaque pointer.
struct inflate_state *_Nullable cisal_inflate_new(void);
void cisal_inflate_free(struct inflate_state *_Nullable state);
// Starts a gzip member: the header is parsed and the trailer's CRC-32 and length checked.
void cisal_inflate_start_gzip(struct inflate_state *_Nonnull state);
// Decompresses from *input (advanced by what was consumed) into output. Returns ISA-L's status
// (< 0 on corrupt data), sets *produced, and *member_done when the member's trailer was read.
int cisal_inflate(struct inflate_state *_Nonnull state, const unsigned char *_Nonnull *_Nonnull input,
                  unsigned int *_Nonnull input_length, unsigned char *_Nonnull output, unsigned int output_length,
                  unsigned int *_Nonnull produced, int *_Nonnull member_done);
