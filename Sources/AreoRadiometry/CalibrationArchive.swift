import AreoTelemetry
import Foundation

/// The POSIX ustar archive a calibration set is uploaded in (ICD §9's files, in one body): plain
/// files only, at the top level or under one directory, no links, no paths outside.
/// Pure, so the fuzzer reaches it; the server writes the members it returns.
public enum CalibrationArchive {
    /// One member: its base name and where its bytes lie in the archive.
    public struct Member: Sendable, Equatable {
        public let name: String
        public let bytes: Range<Int>
    }

    /// The most members an archive may hold (a set has four bands × three arrays and a description).
    public static let maximumMembers = 64

    /// Reads the members of `archive`.
    /// - Throws: ``TelemetryError`` naming the offset and the rule broken.
    public static func members(of archive: [UInt8], file: String = "calibration archive") throws(TelemetryError) -> [Member] {
        var offset = 0
        var members: [Member] = []
        func fail(_ rule: String) -> TelemetryError {
            TelemetryError(.calibration, "ustar: \(rule)", file: file, offset: offset)
        }
        while offset + 512 <= archive.count {
            let header = archive[offset..<offset + 512]
            if header.allSatisfy({ $0 == 0 }) { break }
            func field(_ start: Int, _ length: Int) -> String {
                let bytes = header[(offset + start)..<(offset + start + length)].prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            }
            var checksum = 0
            for (i, byte) in header.enumerated() { checksum += (148..<156).contains(i) ? 32 : Int(byte) }
            guard let stored = Int(field(148, 8), radix: 8), stored == checksum else { throw fail("header checksum wrong") }
            let sizeText = field(124, 12)
            guard sizeText.count <= 11, let size = Int(sizeText, radix: 8), size >= 0, size <= archive.count - offset - 512 else {
                throw fail("file size missing or past the end")
            }
            let type = header[offset + 156]
            var name = field(0, 100)
            let prefix = field(345, 155)
            if !prefix.isEmpty { name = prefix + "/" + name }
            let parts = name.split(separator: "/").filter { $0 != "." }
            if type == UInt8(ascii: "5") || name.hasSuffix("/") {
                // a directory entry: only the top level is allowed, and it carries nothing
                guard parts.count <= 1, !parts.contains("..") else { throw fail("'\(name)' is a nested directory") }
            } else if type == 0 || type == UInt8(ascii: "0") {
                guard let base = parts.last, parts.count <= 2, !parts.contains(".."), PlainName.isValid(base) else {
                    throw fail("'\(name)' is not a plain file name at the top level")
                }
                guard members.count < maximumMembers else { throw fail("more than \(maximumMembers) files") }
                guard !members.contains(where: { $0.name == base }) else { throw fail("'\(base)' is in the archive twice") }
                members.append(Member(name: String(base), bytes: (offset + 512)..<(offset + 512 + size)))
            } else {
                throw fail("'\(name)' is not a regular file (type \(type))")
            }
            offset += 512 + (size + 511) / 512 * 512
        }
        guard !members.isEmpty else { throw fail("no files") }
        return members
    }
}
