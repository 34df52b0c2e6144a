import Crypto
import Foundation
import Synchronization

/// Browser sign-in: a team member gives a token once (`POST /v1/session`) and gets an HttpOnly,
/// SameSite=Strict cookie naming a session; every later request of the page — `<img>` tiles
/// included — carries the cookie, and the session stands for the token. The token is checked on
/// every request through the same path as a bearer token (a revoked token ends its sessions).
/// Sessions live in the server's memory (a restart signs everyone out) and expire after
/// ``lifetime``.
final class SignInSessions: Sendable {
    static let cookieName = "areo_session"
    static let lifetime: TimeInterval = 8 * 3_600
    static let maximumSessions = 10_000

    private let sessions = Mutex([String: (token: String, expires: Date)]())

    /// Starts a session for `token` (already checked by the caller); returns its id.
    func begin(token: String, now: Date = Date()) -> String {
        let id = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.map { String(format: "%02x", $0) }.joined()
        sessions.withLock { s in
            if s.count >= Self.maximumSessions { s = s.filter { $0.value.expires > now } }
            if s.count >= Self.maximumSessions, let oldest = s.min(by: { $0.value.expires < $1.value.expires }) { s[oldest.key] = nil }
            s[id] = (token, now.addingTimeInterval(Self.lifetime))
        }
        return id
    }

    /// The token of session `id`, nil when there is none or it expired.
    func token(session id: String, now: Date = Date()) -> String? {
        guard id.count == 64, id.allSatisfy(\.isHexDigit) else { return nil }
        return sessions.withLock { s in
            guard let known = s[id] else { return nil }
            guard known.expires > now else { s[id] = nil; return nil }
            return known.token
        }
    }

    func end(session id: String) { _ = sessions.withLock { $0.removeValue(forKey: id) } }

    /// The session id in a `Cookie` header, nil when absent.
    static func sessionID(inCookieHeader header: String?) -> String? {
        guard let header, header.count <= 8_192 else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0] == cookieName { return pair[1] }
        }
        return nil
    }

    /// The `Set-Cookie` value that stores session `id` (or, for nil, clears it).
    static func setCookie(_ id: String?) -> String {
        guard let id else { return "\(cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" }
        return "\(cookieName)=\(id); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(lifetime))"
    }
}
