import AreoArchive
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Browser sign-in (`/v1/session`): a token exchanged for an HttpOnly, SameSite=Strict cookie.
struct SessionController: Sendable {
    let authentication: AuthenticationMiddleware
    let sessions: SignInSessions

    struct SignIn: Decodable { var token: String }
    struct Who: Encodable { var role: String; var signedIn: Bool
        enum CodingKeys: String, CodingKey { case role; case signedIn = "signed_in" }
    }

    func addRoutes(to group: RouterGroup<AreoRequestContext>) {
        group.get("/session") { _, context in
            try ProductResponses.json(encodable: Who(role: context.role.rawValue, signedIn: context.tokenID != nil), headers: [.cacheControl: "no-store"])
        }
        group.post("/session") { request, context in
            let body = try await request.body.collect(upTo: 4_096)
            guard let given = try? JSONDecoder().decode(SignIn.self, from: Data(body.readableBytesView)),
                  (1...512).contains(given.token.count) else {
                throw ProblemDocument(.badRequest, "sign in with {\"token\": \"areo_…\"}", code: "invalid_parameter")
            }
            let token = given.token.trimmingCharacters(in: .whitespaces)
            guard let holder = try await authentication.holder(of: token) else {
                context.logger.warning("sign-in with an unknown, revoked or expired token")
                throw ProblemDocument(.unauthorized, "the token is unknown, revoked or expired")
            }
            let id = sessions.begin(token: token)
            context.logger.info("signed in", metadata: ["token_id": "\(holder.id)", "role": "\(holder.role.rawValue)"])
            return try ProductResponses.json(
                encodable: Who(role: holder.role.rawValue, signedIn: true),
                headers: [.setCookie: SignInSessions.setCookie(id), .cacheControl: "no-store"])
        }
        group.delete("/session") { request, _ in
            if let id = SignInSessions.sessionID(inCookieHeader: request.headers[.cookie]) { sessions.end(session: id) }
            return try ProductResponses.json(
                encodable: Who(role: Role.public.rawValue, signedIn: false),
                headers: [.setCookie: SignInSessions.setCookie(nil), .cacheControl: "no-store"])
        }
    }
}
