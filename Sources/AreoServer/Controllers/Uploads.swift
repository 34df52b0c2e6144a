import AreoTelemetry
import AreoGeometry
import Foundation
import Hummingbird
import Logging

/// Request bodies spooled to files (bounded memory whatever the size), and the small tar
/// reader that unpacks an uploaded calibration set.
enum Uploads {
    /// Writes the body to a new file in `directory`, refusing more than `limit` bytes (413).
    static func spool(_ request: Request, name: String, into directory: URL, limit: Int, what: String) async throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let spool = directory.appendingPathComponent("upload-\(UUID().uuidString)-\(name)")
        guard FileManager.default.createFile(atPath: spool.path, contents: nil), let handle = try? FileHandle(forWritingTo: spool) else {
            throw ProblemDocument(.internalServerError, "cannot spool the upload")
        }
        var received = 0
        do {
            for try await chunk in request.body {
                received += chunk.readableBytes
                guard received <= limit else { throw ProblemDocument(.contentTooLarge, "\(what) may have at most \(limit) bytes") }
                try handle.write(contentsOf: chunk.readableBytesView)
            }
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: spool)
            throw error
        }
        return spool
    }

    /// Unpacks a POSIX ustar archive of plain files (no links, no paths outside, no
    /// directories but one optional top level) into `directory`.
    /// - Throws: 422 naming the offset and the rule broken.
    static func untar(_ archive: URL, into directory: URL) throws {
        let data = try Data(contentsOf: archive, options: .mappedIfSafe)
        var offset = 0
        var files = 0
        func fail(_ rule: String) -> ProblemDocument {
            ProblemDocument(.unprocessableContent, "calibration archive, offset \(offset): \(rule)", title: "Not a calibration set archive")
        }
        while offset + 512 <= data.count {
            let header = data.subdata(in: offset..<offset + 512)
            if header.allSatisfy({ $0 == 0 }) { break }
            func field(_ start: Int, _ length: Int) -> String {
                let bytes = header[start..<start + length].prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            }
            let checksum = header.enumerated().reduce(0) { $0 + (148..<156 ~= $1.offset ? 32 : Int($1.element)) }
            guard Int(field(148, 8), radix: 8) == checksum else { throw fail("header checksum wrong (ustar)") }
            guard let size = Int(field(124, 12), radix: 8), size >= 0, offset + 512 + size <= data.count else { throw fail("file size missing or past the end") }
            let type = header[156]
            var name = field(0, 100)
            let prefix = field(345, 155)
            if !prefix.isEmpty { name = prefix + "/" + name }
            let parts = name.split(separator: "/").filter { $0 != "." }
            if type == UInt8(ascii: "5") || name.hasSuffix("/") {
                // a directory entry: only the top level is allowed
            } else if type == 0 || type == UInt8(ascii: "0") {
                guard let base = parts.last, parts.count <= 2, !parts.contains(".."), base.range(of: #"^[A-Za-z0-9._-]{1,200}$"#, options: .regularExpression) != nil else {
                    throw fail("'\(name)' is not a plain file name at the top level")
                }
                try data.subdata(in: offset + 512..<offset + 512 + size).write(to: directory.appendingPathComponent(String(base)))
                files += 1
            } else {
                throw fail("'\(name)' is not a regular file (type \(Character(UnicodeScalar(type))))")
            }
            offset += 512 + (size + 511) / 512 * 512
        }
        guard files > 0 else { throw fail("no files") }
    }
}
