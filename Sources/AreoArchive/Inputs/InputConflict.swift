/// A kernel or calibration set reloaded under an id the archive holds with other content.
/// Nothing is stored; loading it again with `--replace` (`replace=true`) makes it a new input
/// whose products are regenerated and re-versioned.
public struct InputConflict: Error, Sendable, CustomStringConvertible {
    public let kind: String
    public let id: String
    public let storedSHA256: String
    public let loadedSHA256: String

    public init(kind: String, id: String, storedSHA256: String, loadedSHA256: String) {
        (self.kind, self.id, self.storedSHA256, self.loadedSHA256) = (kind, id, storedSHA256, loadedSHA256)
    }

    public var description: String {
        "\(kind) \(id) is in the archive with other content (sha256 \(storedSHA256)); this one has sha256 \(loadedSHA256): "
            + "load it with --replace (replace=true over HTTP) to replace it, regenerating and re-versioning its products"
    }
}
