import Crypto
import Foundation

/// Who owns a prefetch session. A token's sessions are its own (named by the client, kept
/// apart per token); a public caller's session is an id the server issued — 128 random bits
/// signed with this server's key — so nobody can supersede or cancel a session they did not
/// create by guessing its name. A public hint without a valid issued id gets a new one.
struct PrefetchSessions: Sendable {
    private let key = SymmetricKey(size: .bits256)

    /// A session as the scheduler knows it: the id the client uses and the owner name of its jobs.
    struct Session: Equatable {
        var id: String
        var owner: String
    }

    /// The session a hint belongs to: the caller's own, or a new one.
    func session(named name: String?, tokenID: Int?) -> Session {
        if let tokenID {
            let id = name ?? issue()
            return Session(id: id, owner: "prefetch:token\(tokenID):\(id)")
        }
        if let name, isIssued(name) { return Session(id: name, owner: "prefetch:public:\(name)") }
        let id = issue()
        return Session(id: id, owner: "prefetch:public:\(id)")
    }

    /// The session `name` names for this caller, nil when a public caller names one the server
    /// never issued.
    func existing(named name: String, tokenID: Int?) -> Session? {
        if let tokenID { return Session(id: name, owner: "prefetch:token\(tokenID):\(name)") }
        return isIssued(name) ? Session(id: name, owner: "prefetch:public:\(name)") : nil
    }

    /// `p-` + 32 hex digits of randomness + `-` + 32 hex digits of their HMAC-SHA256.
    func issue() -> String {
        let nonce = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
        return "p-" + Self.hex(nonce) + "-" + signature(Self.hex(nonce))
    }

    func isIssued(_ id: String) -> Bool {
        let parts = id.split(separator: "-")
        guard parts.count == 3, parts[0] == "p", parts[1].count == 32 else { return false }
        return signature(String(parts[1])) == parts[2]
    }

    private func signature(_ nonce: String) -> String {
        Self.hex(Data(HMAC<SHA256>.authenticationCode(for: Data(nonce.utf8), using: key)).prefix(16))
    }

    private static func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }
}
