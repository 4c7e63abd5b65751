extension Healthcheck {
    /// Reads a HEALTHCHECK instruction. Its flags and command are never expanded.
    init(_ instruction: Instruction) throws(Problem) {
        guard let type = instruction.arguments.first?.uppercased() else {
            throw Problem("HEALTHCHECK requires at least one argument", hint: "write HEALTHCHECK NONE or HEALTHCHECK [options] CMD command")
        }
        let command = Array(instruction.arguments.dropFirst())
        switch type {
        case "NONE":
            guard command.isEmpty else { throw Problem("HEALTHCHECK NONE takes no arguments") }
            self.init(test: ["NONE"])
        case "CMD":
            guard !command.isEmpty else { throw Problem("missing command after HEALTHCHECK CMD") }
            let test = instruction.isJSON ? ["CMD"] + command : ["CMD-SHELL", command.joined(separator: " ")]
            try self.init(test: test, flags: instruction)
        default:
            throw Problem("Unknown type \"\(type)\" in HEALTHCHECK (try CMD)")
        }
    }

    private init(test: [String], flags instruction: Instruction) throws(Problem) {
        self.init(
            test: test,
            interval: try Self.duration("interval", of: instruction),
            timeout: try Self.duration("timeout", of: instruction),
            startPeriod: try Self.duration("start-period", of: instruction),
            startInterval: try Self.duration("start-interval", of: instruction),
            retries: try Self.retries(of: instruction))
    }

    /// Docker's rule: zero means "default", anything else must be at least 1ms.
    private static func duration(_ flag: String, of instruction: Instruction) throws(Problem) -> Int64? {
        guard let text = instruction.flag(flag), !text.isEmpty else { return nil }
        guard let nanoseconds = GoDuration.nanoseconds(text) else {
            throw Problem("HEALTHCHECK --\(flag): invalid duration \"\(text)\"", hint: "use durations such as 30s, 1m30s or 500ms")
        }
        guard nanoseconds == 0 || nanoseconds >= 1_000_000 else {
            throw Problem("HEALTHCHECK --\(flag) cannot be less than 1ms")
        }
        return nanoseconds == 0 ? nil : nanoseconds
    }

    private static func retries(of instruction: Instruction) throws(Problem) -> Int? {
        guard let text = instruction.flag("retries"), !text.isEmpty else { return nil }
        guard let retries = Int32(text) else { throw Problem("HEALTHCHECK --retries: invalid number \"\(text)\"") }
        guard retries >= 0 else { throw Problem("--retries cannot be negative (\(retries))") }
        return Int(retries)
    }
}

/// Go's `time.ParseDuration`: a sequence of decimal numbers with units, like `1m30s` or `1.5h`.
enum GoDuration {
    static let units: [String: Int64] = [
        "ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
        "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
    ]

    static func nanoseconds(_ text: String) -> Int64? {
        var rest = Substring(text)
        let negative = rest.first == "-"
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total: Int64 = 0
        while !rest.isEmpty {
            guard let part = component(&rest) else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(part)
            guard !overflow else { return nil }
            total = sum
        }
        return negative ? -total : total
    }

    /// One `number unit` part, e.g. `1.5h`.
    private static func component(_ rest: inout Substring) -> Int64? {
        let isDigit = { (c: Character) in c.isASCII && c.isNumber }
        let whole = rest.prefix(while: isDigit)
        rest = rest.dropFirst(whole.count)
        var fraction = Substring("")
        if rest.first == "." {
            rest = rest.dropFirst()
            fraction = rest.prefix(while: isDigit)
            rest = rest.dropFirst(fraction.count)
        }
        let unitText = rest.prefix { !isDigit($0) && $0 != "." }
        rest = rest.dropFirst(unitText.count)
        guard !(whole.isEmpty && fraction.isEmpty), let unit = units[String(unitText)],
              let wholeValue = Int64(whole.isEmpty ? "0" : whole)
        else { return nil }
        let (scaled, overflow) = wholeValue.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        let fractionValue = Double("0." + fraction).map { Int64($0 * Double(unit)) } ?? 0
        return scaled + fractionValue
    }
}
