import Foundation
/// Whether an input loaded under an id the archive may hold already is to be stored (ICD
/// inputs are identified by their content as well as their id).
enum ContentIdentity {
    /// The lower-case hex of a SHA-256 digest: the form every input's identity is stored in.
    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    /// - Parameters:
    ///   - stored: the digest stored under the id: nil when there is no such input, `.some(nil)`
    ///     when one was stored before digests were kept (it is replaced and gets one).
    /// - Returns: false when the same content is stored already (nothing to do).
    /// - Throws: ``InputConflict`` when other content is stored and `replace` is false.
    static func mustStore(kind: String, id: String, stored: String??, loaded: String, replace: Bool) throws -> Bool {
        guard let stored, let digest = stored else { return true }
        if digest == loaded { return false }
        guard replace else { throw InputConflict(kind: kind, id: id, storedSHA256: digest, loadedSHA256: loaded) }
        return true
    }
}
