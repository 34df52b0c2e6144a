/// An input that does not conform to the ICD: which rule, and where (file, offset or line).
public struct TelemetryError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable {
        case passFile, packet, fragment, housekeeping, plan, kernel, instrument, calibration
    }

    public let code: Code
    /// The rule broken, quoting the ICD section.
    public let rule: String
    /// The file concerned, if known.
    public var file: String?
    /// Byte offset in a binary file, or nil.
    public var offset: Int?
    /// 1-based line in a text file, or nil.
    public var line: Int?

    public init(_ code: Code, _ rule: String, file: String? = nil, offset: Int? = nil, line: Int? = nil) {
        self.code = code
        self.rule = rule
        self.file = file
        self.offset = offset
        self.line = line
    }

    public var description: String {
        var place = file ?? "input"
        if let line { place += ":\(line)" }
        if let offset { place += " at offset \(offset)" }
        return "\(place): \(rule)"
    }
}
