import AreoTelemetry
import AreoGeometry
import AreoDelivery
import AreoProcessing
import AreoProducts
import AreoArchive
import Foundation
import Hummingbird
import Logging

/// `GET /list`: a page listing the observations the caller may see, with links to their products.
struct DemoPage: Sendable {
    let delivery: ProductDelivery

    func addRoutes(to router: Router<AreoRequestContext>) {
        router.get("/list") { _, context in
            var query = ObservationCatalog.Query()
            query.publicOnly = context.publicOnly
            query.limit = 500
            let entries = try await delivery.search(query)
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: Self.page(entries))))
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func page(_ entries: [ObservationCatalog.Entry]) -> String {
        var rows = ""
        for e in entries {
            let id = e.observationID
            var links: [String] = ["<a href=\"/v1/observations/\(id)\">metadata</a>"]
            if let band = e.bands.first {
                links.append("<a href=\"/v1/observations/\(id)/products/projected?band=\(band)&amp;format=png\">\(band) projected PNG</a>")
                links.append("<a href=\"/v1/observations/\(id)/products/raw?band=\(band)&amp;format=png\">\(band) raw</a>")
                links.append("<a href=\"/v1/observations/\(id)/products/calibrated?band=\(band)&amp;format=dat\">\(band) I/F dat</a>")
                links.append("<a href=\"/v1/observations/\(id)/products/calibrated?band=\(band)&amp;format=xml\">PDS4 label</a>")
            }
            if let composite = ProductRequest.composites.first(where: { $0.allSatisfy { e.bands.contains($0.name) } }) {
                let names = composite.map(\.name).joined(separator: ",")
                links.append("<a href=\"/v1/observations/\(id)/products/composite?bands=\(names)&amp;format=jpg\">\(names) colour</a>")
            }
            let centre = e.footprint.map { String(format: "%.2f°, %.2f°E", $0.centre.latitude, $0.centre.longitude) } ?? "—"
            rows += """
                <tr><td>\(id)</td><td>\(escape(e.status))</td><td>\(escape(e.bands.joined(separator: " ")))</td>\
                <td>\(e.startUTC.map { escape(ISO8601DateFormatter().string(from: $0)) } ?? "—")</td><td>\(centre)</td>\
                <td>\(escape(e.kernelID ?? "none"))</td><td>\(links.joined(separator: " · "))</td></tr>

                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Areo — observations</title>
            <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border-bottom:1px solid #ccc;padding:.3em .6em;text-align:left}</style>
            </head><body>
            <h1>Areo</h1><p><a href="/">Browse the map</a></p>
            <p>\(entries.count) observations. Products are made on demand from the raw packets with the newest geometry and
            calibration, then cached. API: <a href="/v1/observations">/v1/observations</a> · <a href="/v1/jobs">/v1/jobs</a> ·
            <a href="/v1/cache">/v1/cache</a> · <a href="/metrics">/metrics</a> · <a href="/readyz">/readyz</a></p>
            <table><tr><th>Observation</th><th>Status</th><th>Bands</th><th>Start (UTC)</th><th>Centre</th><th>Geometry kernel</th><th>Products</th></tr>
            \(rows)</table></body></html>
            """
    }
}
