// sync_file_range(2) is a GNU extension: visible only with _GNU_SOURCE, which Swift's Glibc module
// is not built with.
#define _GNU_SOURCE
#include <fcntl.h>
#include "CArchive.h"

int carchive_start_writeback(int fd, long long offset, long long length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}
