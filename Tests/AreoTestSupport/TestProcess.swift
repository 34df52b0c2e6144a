import Foundation

/// Runs a real program (an independent reader, the `areo` binary) and collects what it prints.
public enum TestProcess {
    /// Runs `executable` with `arguments`; its status and its standard output (and standard
    /// error, when `mergeErrors`).
    public static func run(_ executable: URL, _ arguments: [String], mergeErrors: Bool = true) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = mergeErrors ? pipe : FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
