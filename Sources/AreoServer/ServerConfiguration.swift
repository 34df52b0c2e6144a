/// How the HTTP server listens.
public struct ServerConfiguration: Sendable {
    /// Interface to bind, e.g. `127.0.0.1`.
    public var host: String
    /// TCP port; 0 lets the system choose.
    public var port: Int
    /// Largest pass file accepted by `POST /v1/passes`.
    public var maximumUploadBytes: Int

    public init(host: String = "127.0.0.1", port: Int = 8080, maximumUploadBytes: Int = 2 << 30) {
        self.host = host
        self.port = port
        self.maximumUploadBytes = maximumUploadBytes
    }
}
