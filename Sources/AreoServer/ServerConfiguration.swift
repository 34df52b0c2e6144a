import Foundation

/// How the HTTP server listens.
public struct ServerConfiguration: Sendable {
    /// Interface to bind, e.g. `127.0.0.1`.
    public var host: String
    /// TCP port; 0 lets the system choose.
    public var port: Int
    /// Largest pass file accepted by `POST /v1/passes`.
    public var maximumUploadBytes: Int
    /// Where uploads are spooled before ingest (so a large pass is never held in memory).
    public var uploadDirectory: String

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maximumUploadBytes: Int = 4 << 30,
        uploadDirectory: String = FileManager.default.temporaryDirectory.path
    ) {
        self.host = host
        self.port = port
        self.maximumUploadBytes = maximumUploadBytes
        self.uploadDirectory = uploadDirectory
    }
}
