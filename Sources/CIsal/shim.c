#include "CIsal.h"
#include <stdlib.h>

struct inflate_state *cisal_inflate_new(void) {
    return malloc(sizeof(struct inflate_state));
}

void cisal_inflate_free(struct inflate_state *state) {
    free(state);
}

void cisal_inflate_start_gzip(struct inflate_state *state) {
    isal_inflate_init(state);
    state->crc_flag = ISAL_GZIP;
}

int cisal_inflate(struct inflate_state *state, const unsigned char **input, unsigned int *input_length,
                  unsigned char *output, unsigned int output_length, unsigned int *produced, int *member_done) {
    state->next_in = (uint8_t *)*input;
    state->avail_in = *input_length;
    state->next_out = output;
    state->avail_out = output_length;
    int status = isal_inflate(state);
    *produced = output_length - state->avail_out;
    *input = state->next_in;
    *input_length = state->avail_in;
    *member_done = state->block_state == ISAL_BLOCK_FINISH;
    return status;
}
