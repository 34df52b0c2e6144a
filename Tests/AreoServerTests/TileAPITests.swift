import AreoArchive
import AreoCodecs
import AreoDelivery
import AreoGeometry
import AreoServer
import AreoTestSupport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Tiles over HTTP from a real server on a real PostgreSQL with tiny-clean loaded (5300 is
/// embargoed): drawn from raw, embargo-aware, cached, regenerated after a load, refused when
/// hostile; WMTS, TileJSON, tile hints, browser sign-in and the page's files.
@Suite(.serialized) struct TileAPITests {
    static let observations = HTTPField.Name("Areo-Observations")!
    static let cacheState = HTTPField.Name("Areo-Cache")!
    static let kernel = HTTPField.Name("Areo-Geometry-Kernel")!

    /// The tile of `zoom` at the centre of an observation's footprint.
    static func tile(of id: Int, delivery: ProductDelivery, zoom: Int) async throws -> TileMatrixSet.Tile {
        let footprint = try #require(try await delivery.entry(observationID: id)?.footprint)
        let centre = try #require(GeographicBox(west: footprint.west, south: footprint.south, east: footprint.east, north: footprint.north)).centre
        return try #require(TileMatrixSet.marsEquirectangular.tile(containing: centre.latitude, longitude: centre.longitude, zoom: zoom))
    }

    /// A zoom at which tiny-clean's observations fill a good part of a tile.
    static func zoom(of id: Int, delivery: ProductDelivery) async throws -> Int {
        let footprint = try #require(try await delivery.entry(observationID: id)?.footprint)
        let extent = (footprint.north - footprint.south) * MapProjection.radius * .pi / 180
        let set = TileMatrixSet.marsEquirectangular
        var zoom = 0
        while zoom < set.maximumZoom, set.cellSize(zoom: zoom + 1) * 256 >= extent / 2 { zoom += 1 }
        return zoom
    }

    /// `areo_tiles_empty_total` from /metrics (0 before the first).
    static func emptyTiles(_ client: any TestClientProtocol) async throws -> Int {
        try await client.execute(uri: "/metrics", method: .get) { response in
            String(buffer: response.body).split(separator: "\n").first { $0.hasPrefix("areo_tiles_empty_total ") }
                .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        }
    }

    static func opaquePixels(_ body: ByteBuffer) throws -> Int {
        let decoded = try PNG.decode(Array(body.readableBytesView), as: .rgba8)
        #expect(decoded.width == 256 && decoded.height == 256)
        return stride(from: 3, to: decoded.pixels.count, by: 4).filter { decoded.pixels[$0] == 255 }.count
    }

    @Test func tilesAreDrawnFromRawRespectTheEmbargoAndAreCachedAndRegenerated() async throws {
        try await DeliveryAPITests.withServer(neighbours: 0) { client, database, delivery in
            let team = try await ServerTestSupport.authorization(.team, database: database)
            let zoom = try await Self.zoom(of: 5301, delivery: delivery)
            let publicTile = try await Self.tile(of: 5301, delivery: delivery, zoom: zoom)
            let uri = "/v1/tiles/mars-eqc/\(publicTile.zoom)/\(publicTile.column)/\(publicTile.row).png?product=NIR,PAN,BLU"
            let etag = try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/png")
                #expect(response.headers[Self.cacheState] == "miss")
                #expect(response.headers[Self.observations]?.split(separator: ",").contains("5301") == true)
                #expect(response.headers[Self.kernel] == "predi-3")
                let pixels = try Self.opaquePixels(response.body)
                #expect(pixels > 1000)
                return try #require(response.headers[.eTag])
            }
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.headers[Self.cacheState] == "hit")
                #expect(response.headers[.eTag] == etag)
            }
            try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: etag]) { #expect($0.status == .notModified) }
            // JPEG, and the KVP binding of WMTS GetTile gives the same bytes as the RESTful URL.
            try await client.execute(uri: uri.replacingOccurrences(of: ".png", with: ".jpg"), method: .get) { response in
                #expect(response.headers[.contentType] == "image/jpeg")
                let image = try JPEG.decodeGray(Array(response.body.readableBytesView))
                #expect(image.width == 256 && image.height == 256)
            }
            let restful = try await client.execute(uri: uri, method: .get) { Array($0.body.readableBytesView) }
            let kvp = "/v1/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=NIR-PAN-BLU&STYLE=default&FORMAT=image/png&TILEMATRIXSET=mars-eqc&TILEMATRIX=\(publicTile.zoom)&TILEROW=\(publicTile.row)&TILECOL=\(publicTile.column)"
            try await client.execute(uri: kvp, method: .get) { response in
                #expect(response.status == .ok)
                #expect(Array(response.body.readableBytesView) == restful)
            }

            // The embargoed observation: the public's tile leaves it out, the team's has it.
            let hidden = try await Self.tile(of: 5300, delivery: delivery, zoom: zoom)
            let hiddenURI = "/v1/tiles/mars-eqc/\(hidden.zoom)/\(hidden.column)/\(hidden.row).png?product=PAN"
            let publicPixels = try await client.execute(uri: hiddenURI, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[Self.observations]?.contains("5300") != true)
                #expect(response.headers[.cacheControl]?.hasPrefix("public") == true)
                return try Self.opaquePixels(response.body)
            }
            try await client.execute(uri: hiddenURI, method: .get, headers: team) { response in
                #expect(response.status == .ok)
                #expect(response.headers[Self.observations]?.split(separator: ",").contains("5300") == true)
                #expect(response.headers[.cacheControl]?.hasPrefix("private") == true)
                let teamPixels = try Self.opaquePixels(response.body)
                #expect(teamPixels > publicPixels)
            }

            // Far from every observation: the empty tile, at once, without a job.
            let jobsBefore = delivery.scheduler.statistics().started
            let emptyBefore = try await Self.emptyTiles(client)
            let far = try #require(TileMatrixSet.marsEquirectangular.tile(zoom: zoom, column: 0, row: 0))
            try await client.execute(uri: "/v1/tiles/mars-eqc/\(far.zoom)/0/0.png?product=PAN", method: .get) { response in
                #expect(response.status == .ok)
                let pixels = try Self.opaquePixels(response.body)
                #expect(pixels == 0)
            }
            #expect(delivery.scheduler.statistics().started == jobsBefore)
            let emptyAfter = try await Self.emptyTiles(client)
            #expect(emptyAfter == emptyBefore + 1)

            // A newer kernel: the tile made with the old one is regenerated, and served with the new one.
            try await SampleArchive.loadKernel("reconstructed", into: database)
            try await delivery.regenerateIfChanged()
            try await DeliveryAPITests.waitFor("the tile's regeneration") {
                delivery.scheduler.recentJobs().contains { $0.priority == "regeneration" && $0.product.hasPrefix("tile-mars-eqc-\(zoom)-\(publicTile.column)") && $0.state == .done }
            }
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.headers[Self.kernel] == "recon-3")
                #expect(response.headers[Self.cacheState] == "hit", "regenerated before it was asked for")
            }
        }
    }

    @Test func concurrentRequestsForOneColdTileShareOneRender() async throws {
        try await DeliveryAPITests.withServer(neighbours: 0) { client, _, delivery in
            let zoom = try await Self.zoom(of: 5302, delivery: delivery)
            let tile = try await Self.tile(of: 5302, delivery: delivery, zoom: zoom + 1)
            let uri = "/v1/tiles/mars-eqc/\(tile.zoom)/\(tile.column)/\(tile.row).png?product=NIR,RED,BLU"
            let before = delivery.scheduler.statistics()
            let bodies = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for _ in 0..<6 { group.addTask { try await client.execute(uri: uri, method: .get) { Array($0.body.readableBytesView) } } }
                return try await group.reduce(into: [[UInt8]]()) { $0.append($1) }
            }
            let after = delivery.scheduler.statistics()
            #expect(Set(bodies).count == 1 && !bodies[0].isEmpty, "every client got the same tile")
            #expect(after.started - before.started == 1, "one render for six requests (\(after.started - before.started) started)")
        }
    }

    @Test func hostileTileRequestsAreRefusedAndTheServerGoesOn() async throws {
        try await DeliveryAPITests.withServer(neighbours: 0) { client, _, _ in
            let refused: [(String, HTTPResponse.Status)] = [
                ("/v1/tiles/mars-eqc/15/0/0.png", .notFound), ("/v1/tiles/mars-eqc/3/16/0.png", .notFound),
                ("/v1/tiles/mars-eqc/3/-1/0.png", .badRequest), ("/v1/tiles/mars-eqc/3/0/abc.png", .badRequest),
                ("/v1/tiles/mars-eqc/3/0/0.gif", .badRequest), ("/v1/tiles/mars-eqc/3/0/0", .badRequest),
                ("/v1/tiles/mars-eqc/99999999999999999999/0/0.png", .badRequest), ("/v1/tiles/nowhere/0/0/0.png", .notFound),
                ("/v1/tiles/mars-eqc/3/0/0.png?product=XYZ", .badRequest), ("/v1/tiles/mars-eqc/3/0/0.png?product=PAN,PAN,PAN", .badRequest),
                ("/v1/tiles/mars-eqc/3/0/0.png?stretch=1,0", .badRequest), ("/v1/tiles/mars-eqc/3/0/0.png?stretch=nan,1", .badRequest),
                ("/v1/tiles/mars-eqc/3/0/0.dat", .badRequest), ("/v1/tiles/mars-north-stere/14/0/0.png", .notFound),
                ("/v1/wmts?SERVICE=WMTS&REQUEST=GetTile&TILEMATRIXSET=mars-eqc&TILEMATRIX=1&TILEROW=0&TILECOL=99", .notFound),
                ("/v1/wmts?SERVICE=WMTS&REQUEST=Explode", .badRequest), ("/v1/wmts?SERVICE=WMS&REQUEST=GetCapabilities", .badRequest),
                ("/v1/tiles/mars-eqc/tilejson.json?product=QQQ", .badRequest),
            ]
            for (uri, status) in refused {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == status, "\(uri)")
                    #expect(response.headers[.contentType] == "application/problem+json", "\(uri)")
                }
            }
            for uri in ["/v1/tiles/mars-south-stere/0/0/0.png", "/v1/tiles/mars-north-stere/2/1/1.jpg?product=RED,PAN,BLU"] {
                try await client.execute(uri: uri, method: .get) { #expect($0.status == .ok, "\(uri)") }
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func capabilitiesTileJSONAndTheBrowsingPagesFiles() async throws {
        try await DeliveryAPITests.withServer(neighbours: 0) { client, _, _ in
            let capabilities = try await client.execute(uri: "/v1/wmts/1.0.0/WMTSCapabilities.xml", method: .get) { response in
                #expect(response.headers[.contentType]?.hasPrefix("application/xml") == true)
                return Data(response.body.readableBytesView)
            }
            let counter = ElementCounter()
            let parser = XMLParser(data: capabilities)
            parser.delegate = counter
            #expect(parser.parse(), "well-formed XML")
            #expect(counter.counts["Layer"] == 9 && counter.counts["TileMatrixSet"] == 9 * 3 + 3 && counter.counts["TileMatrix"] == 15 + 14 + 14)
            try await client.execute(uri: "/v1/wmts?service=WMTS&request=GetCapabilities", method: .get) { response in
                #expect(Data(response.body.readableBytesView) == capabilities)
            }
            try await client.execute(uri: "/v1/tiles/mars-eqc/tilejson.json?product=NIR,PAN,BLU", method: .get) { response in
                let document = try DeliveryAPITests.json(response.body)
                #expect(document["tilejson"] as? String == "3.0.0" && document["maxzoom"] as? Int == 14)
                #expect((document["tiles"] as? [String])?.first?.hasSuffix("/v1/tiles/mars-eqc/{z}/{x}/{y}.png?product=NIR,PAN,BLU") == true)
            }
            try await client.execute(uri: "/", method: .get) { response in
                let page = String(buffer: response.body)
                #expect(page.contains("/static/leaflet/leaflet.js") && page.contains("/static/areo.js"))
            }
            try await client.execute(uri: "/static/areo.js", method: .get) { response in
                #expect(response.status == .ok && String(buffer: response.body).contains("/v1/prefetch"))
            }
            for uri in ["/static/leaflet/../../../etc/passwd", "/static/leaflet/leaflet.esm.js", "/static/leaflet/%2e%2e/x"] {
                try await client.execute(uri: uri, method: .get) { #expect($0.status == .notFound, "\(uri)") }
            }
            if FileManager.default.fileExists(atPath: "/usr/share/javascript/leaflet/leaflet.js") {
                try await client.execute(uri: "/static/leaflet/leaflet.js", method: .get) { response in
                    #expect(response.status == .ok && String(buffer: response.body).contains("Leaflet"))
                }
            }
        }
    }

    @Test func aTokenBecomesAnHttpOnlyStrictCookieThatCarriesTheTeamsView() async throws {
        try await DeliveryAPITests.withServer(neighbours: 0) { client, database, _ in
            let token = try await AccessTokens(database: database, logger: TestDatabase.logger).create(role: .team, label: "browser")
            try await client.execute(uri: "/v1/session", method: .post, body: ByteBuffer(string: #"{"token": "areo_wrong"}"#)) {
                #expect($0.status == .unauthorized)
                #expect($0.headers[.setCookie] == nil)
            }
            try await client.execute(uri: "/v1/session", method: .post, body: ByteBuffer(string: "not json")) { #expect($0.status == .badRequest) }
            let cookie = try await client.execute(uri: "/v1/session", method: .post, body: ByteBuffer(string: #"{"token": "\#(token)"}"#)) { response in
                #expect(response.status == .ok)
                let set = try #require(response.headers[.setCookie])
                #expect(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"))
                #expect(!set.contains(token), "the cookie names a session, not the token")
                return try #require(set.split(separator: ";").first.map(String.init))
            }
            try await client.execute(uri: "/v1/observations?format=geojson", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.headers[.contentType] == "application/geo+json")
                let document = try DeliveryAPITests.json(response.body)
                #expect(document["type"] as? String == "FeatureCollection")
                let ids = (document["features"] as? [[String: Any]] ?? []).compactMap { ($0["properties"] as? [String: Any])?["id"] as? Int }
                #expect(Set(ids) == [5300, 5301, 5302])
            }
            try await client.execute(uri: "/v1/session", method: .get, headers: [.cookie: cookie]) { response in
                let role = try DeliveryAPITests.json(response.body)["role"] as? String
                #expect(role == "team")
            }
            try await client.execute(uri: "/v1/observations/5300", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok)
                let plan = try DeliveryAPITests.json(response.body)["plan"] as? [String: Any]
                #expect(plan?["rationale"] as? String == "icd conformance")
            }
            // Without the cookie, or with a made-up one, the public view.
            for headers: HTTPFields in [[:], [.cookie: "areo_session=\(String(repeating: "ab", count: 32))"], [.cookie: "areo_session=../../x"]] {
                try await client.execute(uri: "/v1/observations?format=geojson", method: .get, headers: headers) { response in
                    let ids = (try DeliveryAPITests.json(response.body)["features"] as? [[String: Any]] ?? []).compactMap { ($0["properties"] as? [String: Any])?["id"] as? Int }
                    #expect(Set(ids) == [5301, 5302])
                }
            }
            // Signing out ends the session.
            try await client.execute(uri: "/v1/session", method: .delete, headers: [.cookie: cookie]) { response in
                #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
            try await client.execute(uri: "/v1/observations/5300", method: .get, headers: [.cookie: cookie]) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/observations?format=xml", method: .get) { #expect($0.status == .badRequest) }
        }
    }

    @Test func tileHintsRenderAheadAndANewerHintCancelsWhatItNoLongerWants() async throws {
        try await DeliveryAPITests.withServer(workers: 1, neighbours: 0) { client, _, delivery in
            // Every tile of 5302 at a fine zoom: more than one worker renders at once.
            let zoom = min(14, try await Self.zoom(of: 5302, delivery: delivery) + 3)
            let centre = try await Self.tile(of: 5302, delivery: delivery, zoom: zoom)
            var tiles: [[Int]] = []
            for dy in -4...4 { for dx in -4...4 { tiles.append([zoom, centre.column + dx, centre.row + dy]) } }
            let first = #"{"tiles": {"tms": "mars-eqc", "product": "PAN", "tiles": \#(tiles)}}"#
            let (queued, session) = try await client.execute(uri: "/v1/prefetch", method: .post, body: ByteBuffer(string: first)) { response in
                #expect(response.status == .accepted)
                let document = try DeliveryAPITests.json(response.body)
                return ((document["queued"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }, try #require(document["session"] as? String))
            }
            #expect(queued.count > 4, "\(queued.count) tiles with data queued")
            try await DeliveryAPITests.waitFor("a hinted tile render") {
                delivery.scheduler.recentJobs().contains { $0.priority == "hinted" && $0.state == .done }
            }
            // The user moves elsewhere: the newer hint names only the centre tile; the rest still queued is cancelled.
            let second = #"{"session": "\#(session)", "tiles": {"tms": "mars-eqc", "product": "PAN", "tiles": [[\#(zoom), \#(centre.column), \#(centre.row)]]}}"#
            let cancelled = try await client.execute(uri: "/v1/prefetch", method: .post, body: ByteBuffer(string: second)) { response in
                #expect(response.status == .accepted)
                return try #require(try DeliveryAPITests.json(response.body)["cancelled"] as? [String])
            }
            #expect(!cancelled.isEmpty && Set(cancelled).isSubset(of: Set(queued)))
            try await DeliveryAPITests.waitFor("the cancelled renders to show in /v1/jobs") {
                let states = try await DeliveryAPITests.jobs(client).filter { cancelled.contains($0["id"] as? String ?? "") }.compactMap { $0["state"] as? String }
                return states.count == cancelled.count && states.allSatisfy { $0 == "cancelled" }
            }
            for body in [#"{"tiles": {"tms": "mars-eqc", "tiles": [[1, 2]]}}"#, #"{"tiles": {"tms": "nowhere", "tiles": [[0, 0, 0]]}}"#,
                         #"{"tiles": {"tms": "mars-eqc", "tiles": [[40, 0, 0]]}}"#, #"{"tiles": {"tms": "mars-eqc", "product": "X", "tiles": []}}"#] {
                try await client.execute(uri: "/v1/prefetch", method: .post, body: ByteBuffer(string: body)) { response in
                    #expect(response.status.code >= 400 && response.status.code < 500, "\(body)")
                }
            }
        }
    }
}

/// Counts the elements of an XML document by local name.
final class ElementCounter: NSObject, XMLParserDelegate, @unchecked Sendable {
    var counts: [String: Int] = [:]
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        let local = name.split(separator: ":").last.map(String.init) ?? name
        counts[local, default: 0] += 1
    }
}

/// Shape models over HTTP: an archivist's tar of the model and its side file is stored and
/// listed; a team token may not load; a tar without a model, or a broken one, is 422.
@Suite(.serialized) struct ShapeModelAPITests {
    @Test func anArchivistLoadsAShapeModelAsATar() async throws {
        try await DeliveryAPITests.withServer(neighbours: 0) { client, database, _ in
            let archivist = try await ServerTestSupport.authorization(.archivist, database: database)
            let team = try await ServerTestSupport.authorization(.team, database: database)
            let work = ServerTestSupport.temporaryDirectory("dem-tar")
            defer { try? FileManager.default.removeItem(at: work) }
            let dem = TestDatabase.samplesDirectory.appendingPathComponent("tiny-terrain/dem")
            for name in ["mola-like-coarse.dem.tif", "mola-like-coarse.dem.tif.json"] {
                try FileManager.default.copyItem(at: dem.appendingPathComponent(name), to: work.appendingPathComponent(name))
            }
            let tar = try DeliveryAPITests.tar(work)
            try await client.execute(uri: "/v1/shape-models", method: .post, headers: team, body: ByteBuffer(bytes: tar)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/shape-models", method: .post, headers: archivist, body: ByteBuffer(bytes: tar)) { response in
                #expect(response.status == .created)
                let loaded = try DeliveryAPITests.json(response.body)["loaded"] as? [String: String]
                #expect(loaded?["shape_model"] == "mola-like-coarse")
            }
            try await client.execute(uri: "/v1/shape-models", method: .get) { response in
                let models = try #require(try DeliveryAPITests.json(response.body)["shape_models"] as? [[String: Any]])
                #expect(models.compactMap { $0["dem_id"] as? String } == ["mola-like-coarse"])
            }
            // Broken: the GeoTIFF cut short.
            let tif = work.appendingPathComponent("mola-like-coarse.dem.tif")
            try Data(try Data(contentsOf: tif).prefix(500)).write(to: tif)
            try await client.execute(uri: "/v1/shape-models", method: .post, headers: archivist, body: ByteBuffer(bytes: try DeliveryAPITests.tar(work))) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body).contains("mola-like-coarse.dem.tif"))
            }
            try FileManager.default.removeItem(at: tif)
            try await client.execute(uri: "/v1/shape-models", method: .post, headers: archivist, body: ByteBuffer(bytes: try DeliveryAPITests.tar(work))) {
                #expect($0.status == .unprocessableContent)
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }
}
