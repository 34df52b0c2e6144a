import Foundation

/// The conformance samples of `../shared/samples` (written by an independent producer).
enum Samples {
    static var root: URL {
        if let dir = ProcessInfo.processInfo.environment["AREO_SAMPLES_DIR"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/samples")
    }

    static func passes(_ mission: String) throws -> [(name: String, bytes: [UInt8])] {
        try (1...3).map { n in
            let name = "pass_00\(n).dds"
            return (name, [UInt8](try Data(contentsOf: root.appendingPathComponent(mission).appendingPathComponent(name))))
        }
    }

    static func file(_ mission: String, _ name: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent(mission).appendingPathComponent(name))
    }
}
