#pragma once
#include <archive.h>
#include <archive_entry.h>

// The AE_IF* macros carry a cast, so Swift cannot import them; these constants can.
static const unsigned int carchive_ifreg = AE_IFREG;
static const unsigned int carchive_ifdir = AE_IFDIR;
static const unsigned int carchive_iflnk = AE_IFLNK;
