import AreoArchive
import AreoCodecs
import AreoGeometry
import AreoProcessing
import AreoProducts
import AreoTelemetry
import ArgumentParser
import Foundation
import Logging

extension BenchCommand {
    /// `areo bench tiles`: cold tiles drawn from raw packets and warm (cached) tiles, beside
    /// TiTiler serving the same tiles from a Cloud-Optimized GeoTIFF of the same composite.
    struct Tiles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tiles",
            abstract: "Cold and warm 256² NIR-PAN-BLU tiles at zoom 14 of a cassis observation, beside TiTiler (PyPI) serving the same tiles from a COG.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Housekeeping dictionary (ICD §5).") var hkDictionary = "../shared/icd/hk-dictionary.json"
        @Option(help: "Distinct cold tiles timed.") var tiles = 60
        @Option(help: "wrk duration per warm run, seconds.") var duration = 10
        @Option(help: "wrk connections.") var connections = 32
        @Option(help: "The Python environment TiTiler is installed into (made when missing).") var titilerEnvironment = ".build/python-titiler"

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeBenchLogger()
            for tool in ["wrk", "curl", "gdal_translate", "python3"] where ExternalTool.path(tool) == nil {
                throw ValidationError("\(tool) not found: install Debian's wrk, curl, gdal-bin and python3")
            }
            let uvicorn = try Self.titiler(environment: titilerEnvironment)
            let (count, duration, connections) = (max(50, tiles), self.duration, self.connections)
            try await BenchCommand.withCassisArchive(common, hkDictionary: hkDictionary, logger: logger) { mission, location, observation in
                let work = mission.appendingPathComponent("tiles")
                try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
                let set = TileMatrixSet.marsEquirectangular, zoom = set.maximumZoom
                let bands: [Band] = [.nir, .pan, .blu]

                // The tiles: those of the finest zoom whose centre the observation covers, nearest its centre first.
                let (token, chosen, cogPath) = try await Database.withDatabase(location: location, logger: logger) { database in
                    let token = try await AccessTokens(database: database, logger: logger).create(role: .team, label: "bench")
                    guard let entry = try await ObservationCatalog(database: database, logger: logger).entry(observationID: observation),
                          let footprint = entry.footprint, let kernelID = entry.kernelID, let calibrationID = entry.calibrationID,
                          let box = GeographicBox(west: footprint.west, south: footprint.south, east: footprint.east, north: footprint.north),
                          let centre = set.tile(containing: box.centre.latitude, longitude: box.centre.longitude, zoom: zoom)
                    else { throw ValidationError("the observation has no footprint or inputs") }
                    var inside: [TileMatrixSet.Tile] = []
                    for dy in -20...20 {
                        for dx in -20...20 {
                            guard let tile = set.tile(zoom: zoom, column: centre.column + dx, row: centre.row + dy) else { continue }
                            let (lat, lon) = set.projection.inverse(x: (tile.bounds.minX + tile.bounds.maxX) / 2, y: (tile.bounds.minY + tile.bounds.maxY) / 2)
                            if Self.contains(footprint.ring, latitude: lat, longitude: lon) { inside.append(tile) }
                        }
                    }
                    inside.sort { abs($0.column - centre.column) + abs($0.row - centre.row) < abs($1.column - centre.column) + abs($1.row - centre.row) }
                    guard inside.count > count else { throw ValidationError("only \(inside.count) tiles lie inside the observation") }
                    let chosen = Array(inside.prefix(count + 1))  // the last is the warm-up tile

                    // The same composite as a COG: the block of tiles drawn once by Areo and written by GDAL.
                    let columns = chosen.map(\.column), rows = chosen.map(\.row)
                    let (c0, c1, r0, r1) = (columns.min()!, columns.max()!, rows.min()!, rows.max()!)
                    let first = set.tile(zoom: zoom, column: c0, row: r0)!
                    let grid = MapGrid(projection: set.projection, scale: set.cellSize(zoom: zoom), minX: first.bounds.minX, maxY: first.bounds.maxY,
                                       width: (c1 - c0 + 1) * 256, height: (r1 - r0 + 1) * 256)
                    let source = ProductService.MosaicSource(
                        observationID: observation, provenance: ProductProvenance(kernelID: kernelID, calibrationID: calibrationID, shapeModels: entry.shapeModelIDs), dataStamp: entry.dataStamp + "|" + entry.inputsDigest)
                    let planes = try await ProductService(database: database, logger: logger).layerPlanes(
                        bands: bands, grid: grid, sources: [source], memo: InputsMemo())
                    let png = work.appendingPathComponent("composite.png")
                    try Data(try TileImage.encode(planes, width: grid.width, height: grid.height, stretch: .standard, format: .png)).write(to: png)
                    // Georeferenced in degrees (Mars planetocentric longitude/latitude, labelled as
                    // EPSG:4326 for the peer): TiTiler's WorldCRS84Quad then cuts exactly the tiles
                    // of Areo's mars-eqc (both are 2 × 1 plate carrée quads), with no resampling.
                    let degrees = { (metres: Double) in metres / MapProjection.radius * 180 / .pi }
                    let cog = work.appendingPathComponent("composite-cog.tif")
                    try ExternalTool.run("gdal_translate", [
                        "-q", "-of", "COG", "-co", "COMPRESS=DEFLATE", "-co", "BLOCKSIZE=256", "-a_srs", "EPSG:4326",
                        "-a_ullr", String(degrees(grid.minX)), String(degrees(grid.maxY)), String(degrees(grid.maxX)), String(degrees(grid.minY)),
                        png.path, cog.path,
                    ], requireSuccess: true)
                    print("COG for the peer: \(grid.width) × \(grid.height) pixels (\(c1 - c0 + 1) × \(r1 - r0 + 1) tiles), \(Self.megabytes(cog)) MB")
                    return (token, chosen, cog.path)
                }
                let authorization = "Authorization: Bearer \(token)"

                // Areo, in its own process as deployed.
                let (server, areoBase) = try BenchCommand.startAreo(location: location, cache: work.appendingPathComponent("cache"))
                defer { server.terminate(); server.waitUntilExit() }

                // TiTiler under uvicorn (two workers, one per core), reading the COG.
                let titilerPort = Serve.freePort()
                let peer = Foundation.Process()
                peer.executableURL = URL(fileURLWithPath: uvicorn)
                peer.arguments = ["titiler.application.main:app", "--host", "127.0.0.1", "--port", String(titilerPort), "--workers", "2", "--log-level", "warning"]
                peer.standardOutput = FileHandle.nullDevice
                peer.standardError = FileHandle.nullDevice
                try peer.run()
                defer { peer.terminate(); peer.waitUntilExit() }
                let titilerBase = "http://127.0.0.1:\(titilerPort)"
                try Serve.waitUntilReady("\(titilerBase)/healthz")

                let tileURL = { (base: String, tile: TileMatrixSet.Tile) in "\(base)/v1/tiles/mars-eqc/\(tile.zoom)/\(tile.column)/\(tile.row).png?product=NIR,PAN,BLU" }
                let areoURL = { (tile: TileMatrixSet.Tile) in tileURL(areoBase, tile) }
                let cogQuery = "url=" + (cogPath.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cogPath)
                let titilerURL = { (tile: TileMatrixSet.Tile) in "\(titilerBase)/cog/tiles/WorldCRS84Quad/\(tile.zoom)/\(tile.column)/\(tile.row).png?\(cogQuery)" }
                let timed = Array(chosen.dropLast()), warmUp = chosen.last!

                // One request each first (process start-up: Areo's inputs memo, GDAL's open file), then the cold tiles.
                _ = try Serve.curl(areoURL(warmUp), to: work.appendingPathComponent("warmup-areo.png"), header: authorization)
                _ = try Serve.curl(titilerURL(warmUp), to: work.appendingPathComponent("warmup-titiler.png"))
                let areoCold = try Self.timeTiles(timed.map(areoURL), header: authorization, work: work, name: "areo")
                let peerCold = try Self.timeTiles(timed.map(titilerURL), header: nil, work: work, name: "titiler")
                try Self.compareOneTile(areoURL(timed[0]), titilerURL(timed[0]), header: authorization, work: work)
                // The same tiles again from a server that keeps no fragments in memory: every
                // tile's framelets read from the archive's packets.
                let bare: Timing
                do {
                    let (alone, base) = try BenchCommand.startAreo(location: location, cache: work.appendingPathComponent("cache-bare"), extra: ["--fragment-memory", "0"])
                    defer { alone.terminate(); alone.waitUntilExit() }
                    _ = try Serve.curl(tileURL(base, warmUp), to: work.appendingPathComponent("warmup-bare.png"), header: authorization)
                    bare = try Self.timeTiles(timed.map { tileURL(base, $0) }, header: authorization, work: work, name: "bare")
                }

                print("cold tile (256², NIR-PAN-BLU, zoom 14 = 2.54 m/pixel), \(timed.count) distinct tiles one after another:")
                print("  areo from raw packets: p50 \(Self.ms(areoCold.p50)) ms, p95 \(Self.ms(areoCold.p95)) ms (\(areoCold.failures) failed; fragments shared with earlier tiles from memory)")
                print("  areo, every fragment read from the archive (--fragment-memory 0): p50 \(Self.ms(bare.p50)) ms, p95 \(Self.ms(bare.p95)) ms (\(bare.failures) failed)")
                print("  titiler from its COG:  p50 \(Self.ms(peerCold.p50)) ms, p95 \(Self.ms(peerCold.p95)) ms (\(peerCold.failures) failed)")
                print("  goal: areo p50 ≤ 150 ms: \(areoCold.p50 <= 150 ? "met" : "NOT met"); ratio areo/titiler p50 \(String(format: "%.2f", areoCold.p50 / peerCold.p50)) (goal ≤ 2)")

                // Warm: one tile requested again and again (Areo's cache hit; TiTiler reads the COG each time).
                let hot = timed[0]
                _ = try Serve.wrk(areoURL(hot), seconds: 2, connections: connections, header: authorization)
                _ = try Serve.wrk(titilerURL(hot), seconds: 2, connections: connections)
                let areoWarm = try Serve.wrk(areoURL(hot), seconds: duration, connections: connections, header: authorization)
                let peerWarm = try Serve.wrk(titilerURL(hot), seconds: duration, connections: connections)
                print("warm tile, \(connections) connections, \(duration) s (wrk on the same \(ProcessInfo.processInfo.activeProcessorCount) cores):")
                print("  areo (cache hit): \(String(format: "%7.0f", areoWarm.requestsPerSecond)) requests/s, p99 \(Self.ms(areoWarm.p99Milliseconds)) ms")
                print("  titiler:          \(String(format: "%7.0f", peerWarm.requestsPerSecond)) requests/s, p99 \(Self.ms(peerWarm.p99Milliseconds)) ms")
                print("  ratio areo/titiler requests/s: \(String(format: "%.2f", areoWarm.requestsPerSecond / peerWarm.requestsPerSecond)) (goal ≥ 1)")
            }
        }

        static func ms(_ value: Double) -> String { String(format: "%.1f", value) }

        static func megabytes(_ url: URL) -> String {
            let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
            return String(format: "%.1f", Double(size) / 1e6)
        }

        /// Whether (latitude, longitude) lies inside the ring (even–odd rule, longitudes unwrapped around the point).
        static func contains(_ ring: [PlanetocentricCoordinates], latitude: Double, longitude: Double) -> Bool {
            let points = ring.map { p -> (Double, Double) in
                var lon = p.longitude - longitude
                while lon > 180 { lon -= 360 }
                while lon <= -180 { lon += 360 }
                return (lon, p.latitude - latitude)
            }
            var inside = false
            for k in points.indices {
                let (x1, y1) = points[k], (x2, y2) = points[(k + 1) % points.count]
                if (y1 > 0) != (y2 > 0), x1 + (0 - y1) * (x2 - x1) / (y2 - y1) > 0 { inside.toggle() }
            }
            return inside
        }

        struct Timing: Decodable {
            var count: Int; var failures: Int; var p50: Double; var p95: Double
            enum CodingKeys: String, CodingKey { case count, failures; case p50 = "p50_ms"; case p95 = "p95_ms" }
        }

        /// The tiles timed one after another over one keep-alive connection (scripts/python/tile_timing.py, the same client for both).
        static func timeTiles(_ urls: [String], header: String?, work: URL, name: String) throws -> Timing {
            let list = work.appendingPathComponent("urls-\(name).txt")
            try urls.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
            var arguments = ["scripts/python/tile_timing.py", "--urls", list.path]
            if let header { arguments += ["--header", header] }
            let output = try ExternalTool.run("python3", arguments, requireSuccess: true)
            return try JSONDecoder().decode(Timing.self, from: Data(output.utf8))
        }

        /// Both servers' tile of one place, decoded (libpng): the mean difference of the colour
        /// where both have data, in 8-bit levels (0 when the peer serves exactly Areo's pixels).
        static func compareOneTile(_ areo: String, _ titiler: String, header: String, work: URL) throws {
            let a = work.appendingPathComponent("compare-areo.png"), t = work.appendingPathComponent("compare-titiler.png")
            _ = try Serve.curl(areo, to: a, header: header)
            _ = try Serve.curl(titiler, to: t)
            let mine = try PNG.decode([UInt8](try Data(contentsOf: a)), as: .rgba8), theirs = try PNG.decode([UInt8](try Data(contentsOf: t)), as: .rgba8)
            guard mine.width == theirs.width, mine.height == theirs.height else {
                print("the peer's tile is \(theirs.width) × \(theirs.height), Areo's \(mine.width) × \(mine.height)")
                return
            }
            var difference = 0, compared = 0
            for p in stride(from: 0, to: mine.pixels.count, by: 4) where mine.pixels[p + 3] == 255 && theirs.pixels[p + 3] == 255 {
                for c in 0..<3 { difference += abs(Int(mine.pixels[p + c]) - Int(theirs.pixels[p + c])) }
                compared += 1
            }
            print("the same tile from both servers: \(compared) pixels with data in both, mean colour difference \(String(format: "%.2f", Double(difference) / Double(max(1, 3 * compared)))) levels")
        }

        /// uvicorn of a Python environment with `titiler.application`, installed from PyPI when missing.
        static func titiler(environment: String) throws -> String {
            let python = "\(environment)/bin/python", uvicorn = "\(environment)/bin/uvicorn"
            if !FileManager.default.isExecutableFile(atPath: python) || (try? ExternalTool.run(python, ["-c", "import titiler.application, uvicorn"], requireSuccess: true)) == nil {
                print("installing TiTiler (titiler.application, uvicorn) from PyPI into \(environment) …")
                if !FileManager.default.isExecutableFile(atPath: python) {
                    try ExternalTool.run("python3", ["-m", "venv", environment], requireSuccess: true)
                }
                try ExternalTool.run(python, ["-m", "pip", "install", "--quiet", "titiler.application", "uvicorn"], requireSuccess: true)
            }
            return URL(fileURLWithPath: uvicorn).standardizedFileURL.path
        }
    }
}

extension BenchCommand {
    /// `areo serve` in its own process on the bench's database; returns it and its base URL.
    static func startAreo(location: DatabaseLocation, cache: URL, extra: [String] = []) throws -> (Foundation.Process, String) {
        let port = Serve.freePort()
        let server = Foundation.Process()
        server.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        server.arguments = ["serve", "--port", String(port), "--database-url", location.url, "--cache-dir", cache.path,
                            "--log-level", "error", "--rate-limit", "0"] + extra
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        let base = "http://127.0.0.1:\(port)"
        try Serve.waitUntilReady("\(base)/readyz")
        return (server, base)
    }
}
