import AreoGeometry
import AreoTelemetry
import Foundation

/// A request value that breaks its rule: which parameter, what it was, what is allowed.
/// The server answers it with 400 and this text; nothing of the server's state is in it.
public struct ParameterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The parameter's name as the client sent it (`limit`, `from`, `bbox`, a body field…).
    public let parameter: String
    /// The rule, with the allowed range (`an integer in 1…10000`).
    public let rule: String
    /// The offending value, shortened to 80 characters.
    public let value: String?

    public init(_ parameter: String, _ rule: String, value: String? = nil) {
        self.parameter = parameter
        self.rule = rule
        self.value = value.map { $0.count > 80 ? String($0.prefix(80)) + "…" : $0 }
    }

    public var description: String {
        value.map { "\(parameter) must be \(rule), is '\($0)'" } ?? "\(parameter) must be \(rule)"
    }
}

/// The query parameters of one request, each read through a rule with its range, so no value
/// from outside reaches a conversion that could trap (every number is checked with
/// `Int(exactly:)`-style conversions and `isFinite` here, once).
public struct QueryParameters: Sendable {
    /// Earliest and latest instant any time parameter may name: 1990-01-01 to 2200-01-01 UTC.
    /// Mission times lie well inside; every conversion of a time to microseconds is then exact.
    public static let acceptedTimes = Date(timeIntervalSince1970: 631_152_000)...Date(timeIntervalSince1970: 7_258_118_400)
    /// A spacecraft clock reading is 32-bit coarse seconds plus a fraction (ICD §1).
    public static let acceptedSCLK: ClosedRange<Double> = 0...4_294_967_296
    /// The largest `offset` of a paged listing.
    public static let maximumOffset = 1_000_000

    private let values: [String: String]

    /// The parameters in request order (the last of a repeated name wins).
    public init(_ pairs: some Sequence<(String, String)>) {
        var values: [String: String] = [:]
        for (name, value) in pairs { values[name] = value }
        self.values = values
    }

    /// Parses a raw query string (`a=1&b=x%20y`), as a server would.
    public init(queryString: String) {
        self.init(queryString.split(separator: "&").map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        })
    }

    /// The raw text of a parameter.
    public subscript(name: String) -> String? { values[name] }

    /// Every parameter (for links that repeat the query).
    public var all: [String: String] { values }

    /// An integer within `range`, nil when absent.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws(ParameterError) -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ParameterError(name, "an integer in \(range.lowerBound)…\(range.upperBound)", value: text)
        }
        return value
    }

    /// A finite number within `range`, nil when absent.
    public func number(_ name: String, in range: ClosedRange<Double>) throws(ParameterError) -> Double? {
        guard let text = values[name] else { return nil }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, range.contains(value) else {
            throw ParameterError(name, "a number in \(Self.format(range.lowerBound))…\(Self.format(range.upperBound))", value: text)
        }
        return value
    }

    /// A page size: `limit` in 1…`maximum`, `standard` when absent.
    public func limit(standard: Int, maximum: Int) throws(ParameterError) -> Int {
        try integer("limit", in: 1...maximum) ?? standard
    }

    /// A page start: `offset` in 0…``maximumOffset``, 0 when absent.
    public func offset() throws(ParameterError) -> Int {
        try integer("offset", in: 0...Self.maximumOffset) ?? 0
    }

    /// An ISO 8601 UTC time within ``acceptedTimes``, nil when absent.
    public func time(_ name: String) throws(ParameterError) -> Date? {
        guard let text = values[name] else { return nil }
        guard let date = GroundTime.parse(text), Self.acceptedTimes.contains(date) else {
            throw ParameterError(name, "an ISO 8601 UTC time between 1990-01-01 and 2200-01-01", value: text)
        }
        return date
    }

    /// A time span from `from` and `to`: both or neither, `from` ≤ `to`, at most `maximumSpan` long.
    public func timeRange(_ from: String, _ to: String, maximumSpan: TimeInterval? = nil) throws(ParameterError) -> ClosedRange<Date>? {
        let start = try time(from), end = try time(to)
        guard let start, let end else {
            if start != nil || end != nil { throw ParameterError(start == nil ? from : to, "given together with \(start == nil ? to : from)") }
            return nil
        }
        guard start <= end else { throw ParameterError(from, "not after \(to)", value: values[from]) }
        if let maximumSpan, end.timeIntervalSince(start) > maximumSpan {
            throw ParameterError(to, "at most \(Self.format(maximumSpan / 86_400)) days after \(from)", value: values[to])
        }
        return start...end
    }

    /// An ERT span as microseconds since 1970 (exact within ``acceptedTimes``).
    public func ertMicroseconds() throws(ParameterError) -> ClosedRange<Int64>? {
        guard let range = try timeRange("ert_from", "ert_to") else { return nil }
        return Self.microseconds(range.lowerBound)...Self.microseconds(range.upperBound)
    }

    /// A corrected-SCLK span from `sclk_from` and `sclk_to` (seconds, within ``acceptedSCLK``).
    public func sclkRange() throws(ParameterError) -> ClosedRange<Double>? {
        let from = try number("sclk_from", in: Self.acceptedSCLK), to = try number("sclk_to", in: Self.acceptedSCLK)
        guard let from, let to else {
            if from != nil || to != nil { throw ParameterError(from == nil ? "sclk_from" : "sclk_to", "given together with \(from == nil ? "sclk_to" : "sclk_from")") }
            return nil
        }
        guard from <= to else { throw ParameterError("sclk_from", "not above sclk_to", value: values["sclk_from"]) }
        return from...to
    }

    /// One of `choices`, nil when absent.
    public func choice(_ name: String, of choices: [String]) throws(ParameterError) -> String? {
        guard let text = values[name] else { return nil }
        guard choices.contains(text) else { throw ParameterError(name, "one of \(choices.joined(separator: ", "))", value: text) }
        return text
    }

    /// A plain name: 1–`length` characters of `[A-Za-z0-9._-]`, nil when absent.
    public func name(_ name: String, length: Int = 200) throws(ParameterError) -> String? {
        guard let text = values[name] else { return nil }
        guard PlainName.isValid(text, length: length) else { throw ParameterError(name, "1–\(length) characters of [A-Za-z0-9._-]", value: text) }
        return text
    }

    /// A `west,south,east,north` box in degrees, nil when absent.
    public func box(_ name: String) throws(ParameterError) -> GeographicBox? {
        guard let text = values[name] else { return nil }
        guard let box = GeographicBox(parsing: text) else {
            throw ParameterError(name, "west,south,east,north in degrees (east longitude −180…360, latitude −90…90, south < north)", value: text)
        }
        return box
    }

    /// Microseconds since 1970 of a time within ``acceptedTimes`` (exact there; clamped outside).
    public static func microseconds(_ date: Date) -> Int64 {
        let clamped = min(max(date, acceptedTimes.lowerBound), acceptedTimes.upperBound)
        return Int64((clamped.timeIntervalSince1970 * 1e6).rounded())
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
