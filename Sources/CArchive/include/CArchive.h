#pragma once
#include <archive.h>
#include <archive_entry.h>
// fsetxattr, for unpacking overlayfs opaque directories; Glibc's module map leaves it out.
#include <sys/xattr.h>

// The AE_IF* macros carry a cast, so Swift cannot import them; these constants can.
static const unsigned int carchive_ifreg = AE_IFREG;
static const unsigned int carchive_ifdir = AE_IFDIR;
static const unsigned int carchive_iflnk = AE_IFLNK;
static const unsigned int carchive_ifchr = AE_IFCHR;
static const unsigned int carchive_ifblk = AE_IFBLK;
static const unsigned int carchive_ififo = AE_IFIFO;

// Starts writing back a file range without waiting for it (sync_file_range, SYNC_FILE_RANGE_WRITE).
int carchive_start_writeback(int fd, long long offset, long long length);
