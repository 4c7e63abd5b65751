import CCurl

/// Owns one `CURL*`. Reused across requests so its connection cache keeps connections alive.
/// Unchecked: one thread at a time uses it; HTTPClient hands it out of its pool and takes it
/// back under the pool's mutex.
final class EasyHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
    /// curl writes its detailed message here ("SSL certificate problem: ...").
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() throws(HTTPError) {
        guard let raw = curl_easy_init() else {
            throw HTTPError(kind: .other, message: "curl_easy_init failed")
        }
        self.raw = raw
        errorBuffer = .allocate(capacity: ccurl_error_size)
        errorBuffer.initialize(repeating: 0, count: ccurl_error_size)
    }

    deinit {
        curl_easy_cleanup(raw)
        errorBuffer.deallocate()
    }

    /// Clears the options of the previous request; open connections stay.
    func reset() throws(HTTPError) {
        curl_easy_reset(raw)
        errorBuffer[0] = 0
        try check(ccurl_setopt_ptr(raw, CURLOPT_ERRORBUFFER, errorBuffer), CURLOPT_ERRORBUFFER)
    }

    func set(_ option: CURLoption, _ value: Int) throws(HTTPError) {
        try check(ccurl_setopt_long(raw, option, value), option)
    }

    /// For the `_LARGE` options, which take a curl_off_t.
    func set(_ option: CURLoption, large value: Int64) throws(HTTPError) {
        try check(ccurl_setopt_off(raw, option, curl_off_t(value)), option)
    }

    /// curl copies strings, so `value` need not outlive the call.
    func set(_ option: CURLoption, _ value: String) throws(HTTPError) {
        try check(ccurl_setopt_string(raw, option, value), option)
    }

    func set(_ option: CURLoption, _ value: UnsafeMutableRawPointer?) throws(HTTPError) {
        try check(ccurl_setopt_ptr(raw, option, value), option)
    }

    func set(_ option: CURLoption, _ list: HeaderList) throws(HTTPError) {
        try check(ccurl_setopt_slist(raw, option, list.raw), option)
    }

    func set(_ option: CURLoption, _ callback: ccurl_data_callback) throws(HTTPError) {
        try check(ccurl_setopt_data_callback(raw, option, callback), option)
    }

    func set(_ option: CURLoption, _ callback: ccurl_seek_callback) throws(HTTPError) {
        try check(ccurl_setopt_seek_callback(raw, option, callback), option)
    }

    func set(_ option: CURLoption, _ callback: ccurl_xferinfo_callback) throws(HTTPError) {
        try check(ccurl_setopt_xferinfo_callback(raw, option, callback), option)
    }

    func info(_ info: CURLINFO) -> Int {
        var value = 0
        _ = ccurl_getinfo_long(raw, info, &value)
        return value
    }

    func perform() -> CURLcode {
        errorBuffer[0] = 0
        return curl_easy_perform(raw)
    }

    /// The detailed message of the last failure, or curl's generic text for `code`.
    func message(for code: CURLcode) -> String {
        if errorBuffer[0] != 0 { return String(cString: errorBuffer) }
        return String(cString: curl_easy_strerror(code))
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(HTTPError) {
        guard code != CURLE_OK else { return }
        throw HTTPError(code: code, message: "setting curl option \(option.rawValue): \(message(for: code))", url: "")
    }
}

/// Owns a `curl_slist` of request header lines; it must outlive the transfer that uses it.
final class HeaderList {
    private(set) var raw: UnsafeMutablePointer<curl_slist>?

    init(_ lines: [String]) throws(HTTPError) {
        for line in lines {
            guard let appended = curl_slist_append(raw, line) else {
                throw HTTPError(kind: .other, message: "curl_slist_append failed")
            }
            raw = appended
        }
    }

    deinit {
        curl_slist_free_all(raw)
    }
}
