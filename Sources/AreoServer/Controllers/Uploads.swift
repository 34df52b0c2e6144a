import AreoTelemetry
import AreoGeometry
import AreoRadiometry
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

    /// Unpacks an uploaded ustar archive (``CalibrationArchive``) into `directory`; errors name it `name`.
    /// - Throws: ``TelemetryError`` (422) naming the offset and the rule broken.
    static func untar(_ archive: URL, into directory: URL, name: String = "calibration archive") throws {
        let bytes = [UInt8](try Data(contentsOf: archive, options: .mappedIfSafe))
        for member in try CalibrationArchive.members(of: bytes, file: name) {
            try Data(bytes[member.bytes]).write(to: directory.appendingPathComponent(member.name))
        }
    }
}
