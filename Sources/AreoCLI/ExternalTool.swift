import ArgumentParser
import Foundation

/// Programs from Debian the benchmarks measure against or drive (wrk, nginx, curl, gdalwarp).
enum ExternalTool {
    /// Where `tool` is installed, nil when it is not.
    static func path(_ tool: String) -> String? {
        for directory in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(tool)") {
            return "\(directory)/\(tool)"
        }
        return nil
    }

    /// Runs `tool` and returns what it printed (standard error discarded); with
    /// `requireSuccess`, a non-zero exit is an error.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], requireSuccess: Bool = false) throws -> String {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: path(tool) ?? tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if requireSuccess, process.terminationStatus != 0 { throw ValidationError("\(tool) failed (status \(process.terminationStatus))") }
        return String(decoding: output, as: UTF8.self)
    }
}
