import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `GET /`: the browsing page — a Leaflet map of Mars with Areo's tiles, the footprints of the
/// observations in view, a side panel for the selected one, sign-in, and prefetch hints as the
/// user pans and zooms. Leaflet is Debian's `libjs-leaflet`, served from its installed directory
/// under `/static/leaflet/`; the page's own script and style are part of Areo.
struct BrowsePage: Sendable {
    /// Where Leaflet is installed (`libjs-leaflet`).
    let leafletDirectory: String
    static let fileIO = FileIO()

    /// The Leaflet files the page may load (nothing else under the directory is served).
    static let leafletFiles: Set<String> = [
        "leaflet.js", "leaflet.css", "images/layers.png", "images/layers-2x.png", "images/marker-icon.png",
        "images/marker-icon-2x.png", "images/marker-shadow.png",
    ]

    func addRoutes(to router: Router<AreoRequestContext>) {
        router.get("/") { _, _ in
            Self.text(BrowsePageContent.html, type: "text/html; charset=utf-8")
        }
        router.get("/static/areo.js") { _, _ in Self.text(BrowsePageContent.script, type: "text/javascript; charset=utf-8") }
        router.get("/static/areo.css") { _, _ in Self.text(BrowsePageContent.style, type: "text/css; charset=utf-8") }
        router.get("/static/leaflet/{file}") { _, context in try await leaflet(context.parameters.get("file") ?? "", context: context) }
        router.get("/static/leaflet/images/{file}") { _, context in
            try await leaflet("images/" + (context.parameters.get("file") ?? ""), context: context)
        }
    }

    /// One of Leaflet's files (only those the page loads).
    func leaflet(_ name: String, context: AreoRequestContext) async throws -> Response {
        guard Self.leafletFiles.contains(name) else { throw ProblemDocument(.notFound, "no such file", code: "not_found") }
        let path = (leafletDirectory as NSString).appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: path) else {
            context.logger.error("Leaflet is not installed (libjs-leaflet)", metadata: ["path": "\(path)"])
            throw ProblemDocument(.notFound, "Leaflet is not installed on this server (Debian package libjs-leaflet)", code: "not_found")
        }
        let type = name.hasSuffix(".js") ? "text/javascript; charset=utf-8" : name.hasSuffix(".css") ? "text/css; charset=utf-8" : "image/png"
        let body = try await Self.fileIO.loadFile(path: path, context: context)
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=3600"], body: body)
    }

    static func text(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
