#pragma once
#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call;
// these wrappers fix the argument type per kind of option.
CURLcode ccurl_setopt_long(CURL *_Nonnull handle, CURLoption option, long value);
CURLcode ccurl_setopt_off(CURL *_Nonnull handle, CURLoption option, curl_off_t value);
CURLcode ccurl_setopt_string(CURL *_Nonnull handle, CURLoption option, const char *_Nullable value);
CURLcode ccurl_setopt_ptr(CURL *_Nonnull handle, CURLoption option, void *_Nullable value);
CURLcode ccurl_setopt_slist(CURL *_Nonnull handle, CURLoption option, struct curl_slist *_Nullable list);

// Callback types with nullability, so Swift closures get non-optional buffers.
typedef size_t (*ccurl_data_callback)(char *_Nonnull data, size_t size, size_t count, void *_Nullable context);
typedef int (*ccurl_seek_callback)(void *_Nullable context, curl_off_t offset, int origin);
typedef int (*ccurl_xferinfo_callback)(void *_Nullable context, curl_off_t download_total, curl_off_t downloaded,
                                       curl_off_t upload_total, curl_off_t uploaded);

// The data shape serves CURLOPT_WRITEFUNCTION, CURLOPT_HEADERFUNCTION and CURLOPT_READFUNCTION.
CURLcode ccurl_setopt_data_callback(CURL *_Nonnull handle, CURLoption option, ccurl_data_callback _Nonnull callback);
CURLcode ccurl_setopt_seek_callback(CURL *_Nonnull handle, CURLoption option, ccurl_seek_callback _Nonnull callback);
CURLcode ccurl_setopt_xferinfo_callback(CURL *_Nonnull handle, CURLoption option, ccurl_xferinfo_callback _Nonnull callback);

CURLcode ccurl_getinfo_long(CURL *_Nonnull handle, CURLINFO info, long *_Nonnull value);

// CURL_GLOBAL_ALL is a compound macro, which Swift does not import.
CURLcode ccurl_global_init(void);

// Sentinels whose macros carry casts or expand to other macros.
static const size_t ccurl_readfunc_abort = CURL_READFUNC_ABORT;
static const int ccurl_seekfunc_ok = CURL_SEEKFUNC_OK;
static const int ccurl_seekfunc_cantseek = CURL_SEEKFUNC_CANTSEEK;
static const size_t ccurl_error_size = CURL_ERROR_SIZE;

// A CONNECT_ONLY connection's socket, for poll() and shutdown().
CURLcode ccurl_getinfo_socket(CURL *_Nonnull handle, curl_socket_t *_Nonnull socket);

// Sends TLS close_notify on a CONNECT_ONLY connection, closing our side while reading goes on
// (what Go's tls.Conn.CloseWrite does, and what the Docker daemon reads as end of stdin).
// Returns 1 when sent, 0 when the socket is full (poll for writing and call again), -1 on failure.
int ccurl_tls_close_notify(CURL *_Nonnull handle);
