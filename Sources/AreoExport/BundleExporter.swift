import AreoProcessing
import AreoProducts
import AreoArchive
import AreoTelemetry
import Foundation
import Logging
import PostgresNIO

/// `areo export pds4`: a PDS4 bundle of the archive's products, versioned and incremental, with
/// a delivery manifest (docs/pds4.md).
///
/// Per observation: decoded DN (`data_raw`), I/F (`data_calibrated`) and map-projected I/F
/// (`data_projected`) of every band, and the colour composite (three bands), as float32 arrays
/// with their labels, and the colour (or projected) PNG in `browse`; a `document` collection; a bundle label; `manifest.txt`.
public struct BundleExporter: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public struct Options: Sendable {
        public var directory: URL
        /// Only these observations (default: every observation in the catalogue).
        public var observations: [Int]?
        /// Deliver only products new or changed since the last delivery.
        public var incremental = false
        /// Only observations whose catalogue row changed after this moment.
        public var changedSince: Date?
        /// Export incomplete or corrupt observations too.
        public var force = false
        /// Map scale of the projected products and browse images, metres per pixel.
        public var scale = ProductRequest.defaultScale
        /// Deliver embargoed (and unplanned) observations too: a team-internal delivery, marked
        /// so in its bundle label and kept out of the public version history. Without it they
        /// are refused ("embargoed until …") and delivered by the first export after the embargo.
        public var includeEmbargoed = false

        public init(directory: URL) { self.directory = directory }

        /// Applies `--since`: "last" (only what is new or changed since the last delivery), or
        /// an ISO 8601 UTC time (also only observations changed since then).
        public mutating func since(_ text: String) throws(ExportError) {
            if text != "last" {
                guard let date = GroundTime.parse(text) else { throw ExportError("since is 'last' or an ISO 8601 UTC time, not '\(text)'") }
                changedSince = date
            }
            incremental = true
        }
    }

    /// What a delivery contains.
    public struct Report: Sendable, Codable, Equatable {
        public struct Product: Sendable, Codable, Equatable {
            public var lidvid: String
            public var path: String
            public var status: String  // new, revised, unchanged
        }
        public var deliveryID: Int
        public var directory: String
        public var products: [Product]
        /// Observations not exported, with the reason.
        public var refused: [String: String]
        public var files: Int
    }

    /// One product of the delivery before it is written.
    struct Planned {
        var request: ProductRequest
        var collection: String
        var lid: String
        var identity: String
        var browse: Bool
    }

    public func export(_ options: Options, progress: @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> Report {
        let catalog = ObservationCatalog(database: database, logger: logger)
        var query = ObservationCatalog.Query()
        query.publicOnly = false
        query.limit = 100_000
        var entries = try await catalog.search(query).entries
        if let wanted = options.observations {
            let known = Set(entries.map(\.observationID))
            for id in wanted where !known.contains(id) { throw ExportError("observation \(id) is not in the archive") }
            entries = entries.filter { wanted.contains($0.observationID) }
        }
        if let since = options.changedSince {
            entries = try await changed(entries, since: since)
        }
        var refused: [String: String] = [:]
        var exported: [ObservationCatalog.Entry] = []
        let now = Date()
        for entry in entries {
            if !options.includeEmbargoed, !entry.isPublic(at: now) {
                refused[String(entry.observationID)] = entry.planned
                    ? "embargoed until \(entry.embargoUntil.map(GroundTime.iso8601) ?? "?") (--include-embargoed for a team-internal delivery)"
                    : "no plan, so team-only until a plan says otherwise (--include-embargoed for a team-internal delivery)"
            } else if entry.kernelID == nil || entry.calibrationID == nil {
                refused[String(entry.observationID)] = "no applicable \(entry.kernelID == nil ? "geometry kernel" : "calibration set")"
            } else if entry.status != "complete", !options.force {
                refused[String(entry.observationID)] = "status \(entry.status) (failed validation or incomplete; --force exports it anyway)"
            } else {
                exported.append(entry)
            }
        }
        for (id, reason) in refused.sorted(by: { $0.key < $1.key }) { logger.warning("observation not exported", metadata: ["observation": "\(id)", "reason": "\(reason)"]) }
        guard !exported.isEmpty else {
            throw ExportError("nothing to export: " + (refused.isEmpty ? "no observation selected" : refused.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")))
        }

        // The products, their identities and versions.
        var planned: [Planned] = []
        for entry in exported {
            for name in entry.bands {
                guard let band = Band(name: name) else { continue }
                for kind in [ProductRequest.Kind.raw, .calibrated, .projected] {
                    let request = try ProductRequest(observationID: entry.observationID, kind: kind, bands: [band], scale: options.scale, format: .dat)
                    planned.append(plan(request, entry: entry, browse: false))
                }
            }
            let composite = ProductRequest.composites.first { $0.allSatisfy { entry.bands.contains($0.name) } }
            if let composite {
                // The colour composite as data too: one Array_3D_Image (Band, Line, Sample).
                let request = try ProductRequest(observationID: entry.observationID, kind: .composite, bands: composite, scale: options.scale, format: .dat)
                planned.append(plan(request, entry: entry, browse: false))
            }
            let bands = composite ?? entry.bands.prefix(1).compactMap { Band(name: $0) }
            if !bands.isEmpty {
                let request = try ProductRequest(
                    observationID: entry.observationID, kind: composite == nil ? .projected : .composite, bands: bands, scale: options.scale, format: .png)
                planned.append(plan(request, entry: entry, browse: true))
            }
        }
        let versions = try await latestVersions(planned.map(\.lid))

        let fm = FileManager.default
        try fm.createDirectory(at: options.directory, withIntermediateDirectories: true)
        let creation = PDS4ProductLabel.iso(Date())
        let service = ProductService(database: database, logger: logger)
        var report = Report(deliveryID: 0, directory: options.directory.path, products: [], refused: refused, files: 0)
        var members: [String: [String]] = [:]  // collection → lidvids
        var delivered: [(lid: String, major: Int, identity: String, md5: String)] = []
        for (index, product) in planned.enumerated() {
            try Task.checkCancellation()
            let previous = versions[product.lid]
            let major: Int, status: String
            switch previous {
            case nil: (major, status) = (1, "new")
            case let (version, identity)? where identity == product.identity: (major, status) = (version, "unchanged")
            case let (version, _)?: (major, status) = (version + 1, "revised")
            }
            progress(index + 1, planned.count)
            if options.incremental, status == "unchanged" { continue }
            let vid = "\(major).0"
            let folder = options.directory.appendingPathComponent(product.collection).appendingPathComponent(String(product.request.observationID))
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
            let file = try await service.product(product.request, versionID: vid)
            let name = product.request.fileName
            try Data(file.bytes).write(to: folder.appendingPathComponent(name))
            let md5 = DeliveryManifest.md5(file.bytes)
            let labelName = (name as NSString).deletingPathExtension + ".xml"
            if product.browse {
                let dataLID = "urn:esa:psa:areo:data_projected:\(product.request.observationID)"
                try BundleLabels.browse(
                    lid: product.lid, vid: vid, title: "Areo browse image of observation \(product.request.observationID)", file: name, md5: md5,
                    size: file.bytes.count, encoding: "PNG", dataLID: dataLID, creation: creation
                ).write(to: folder.appendingPathComponent(labelName), atomically: true, encoding: .utf8)
            } else if let label = file.label {
                try label.write(to: folder.appendingPathComponent(labelName), atomically: true, encoding: .utf8)
            }
            members[product.collection, default: []].append("\(product.lid)::\(vid)")
            delivered.append((product.lid, major, product.identity, md5))
            report.products.append(.init(lidvid: "\(product.lid)::\(vid)", path: "\(product.collection)/\(product.request.observationID)/\(labelName)", status: status))
            logger.info("exported", metadata: ["lidvid": "\(product.lid)::\(vid)", "status": "\(status)"])
        }
        guard !delivered.isEmpty else { throw ExportError("nothing new or changed since the last delivery") }

        // The delivery number is the bundle's and the collections' version.
        let deliveryID = try await recordDelivery(options, delivered: delivered)
        report.deliveryID = deliveryID
        let vid = "\(deliveryID).0"
        try writeDocument(in: options.directory, vid: vid, creation: creation, members: &members)
        // A collection's version lists every member of its current version, not only this
        // delivery's: the latest version of every product delivered before (public history).
        for lidvid in try await currentMembers() {
            let collection = PDS4ProductLabel.collection(ofLID: lidvid)
            guard let collection, !(members[collection]?.contains(where: { Self.lid(of: $0) == Self.lid(of: lidvid) }) ?? false) else { continue }
            members[collection, default: []].append(lidvid)
        }
        var bundleMembers: [(String, String)] = []
        for (collection, lidvids) in members.sorted(by: { $0.key < $1.key }) {
            let inventory = lidvids.sorted().map { "P,\($0)\r\n" }.joined()
            let inventoryName = "collection_\(collection)_inventory.csv"
            let folder = options.directory.appendingPathComponent(collection)
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)  // a collection with no new product this time
            try Data(inventory.utf8).write(to: folder.appendingPathComponent(inventoryName))
            let type = collection == "browse" ? "Browse" : collection == "document" ? "Document" : "Data"
            let lid = "urn:esa:psa:areo:\(collection)"
            try BundleLabels.collection(
                lid: lid, vid: vid, type: type, inventory: inventoryName, records: lidvids.count, inventoryBytes: inventory.utf8.count,
                md5: DeliveryManifest.md5(Array(inventory.utf8)), creation: creation
            ).write(to: folder.appendingPathComponent("collection_\(collection).xml"), atomically: true, encoding: .utf8)
            bundleMembers.append(("\(lid)::\(vid)", "bundle_has_\(type.lowercased())_collection"))
        }
        try BundleLabels.bundle(lid: "urn:esa:psa:areo", vid: vid, members: bundleMembers, creation: creation, teamInternal: options.includeEmbargoed)
            .write(to: options.directory.appendingPathComponent("bundle_areo.xml"), atomically: true, encoding: .utf8)
        report.files = try DeliveryManifest.write(for: options.directory)
        logger.info("delivery written", metadata: ["delivery": "\(deliveryID)", "products": "\(delivered.count)", "files": "\(report.files)"])
        return report
    }

    func plan(_ request: ProductRequest, entry: ObservationCatalog.Entry, browse: Bool) -> Planned {
        let collection = browse ? "browse" : PDS4ProductLabel.collection(of: request.kind)
        let lid = PDS4ProductLabel.logicalIdentifier(request, collection: collection)
        // Decoded DN depend on the data only; everything else on the kernel and calibration too.
        let inputs = request.kind == .raw ? "" : "|\(entry.kernelID ?? "")|\(entry.calibrationID ?? "")|\(entry.inputsDigest)"
        let identity = "\(request.fileName)|\(areoVersion)|\(entry.dataStamp)\(inputs)"
        return Planned(request: request, collection: collection, lid: lid, identity: identity, browse: browse)
    }

    func latestVersions(_ lids: [String]) async throws -> [String: (Int, String)] {
        try await ExportRecords(database: database, logger: logger).latestVersions(lids)
    }

    /// The observations changed after `since`, counting an embargo that ended since then as a change.
    func changed(_ entries: [ObservationCatalog.Entry], since: Date) async throws -> [ObservationCatalog.Entry] {
        let ids = try await ObservationCatalog(database: database, logger: logger).changed(since: since)
        return entries.filter { ids.contains($0.observationID) }
    }

    /// The latest version of every product in the public version history, as lidvids.
    func currentMembers() async throws -> [String] {
        try await ExportRecords(database: database, logger: logger).currentMembers().map { "\($0.lid)::\($0.major).0" }
    }

    /// The LID of a lidvid (what comes before `::`).
    static func lid(of lidvid: String) -> Substring { lidvid[..<(lidvid.range(of: "::")?.lowerBound ?? lidvid.endIndex)] }

    func recordDelivery(_ options: Options, delivered: [(lid: String, major: Int, identity: String, md5: String)]) async throws -> Int {
        try await ExportRecords(database: database, logger: logger).recordDelivery(
            directory: options.directory.path, incremental: options.incremental, teamInternal: options.includeEmbargoed,
            delivered: delivered.map { .init(lid: $0.lid, major: $0.major, identity: $0.identity, md5: $0.md5) })
    }

    func writeDocument(in directory: URL, vid: String, creation: String, members: inout [String: [String]]) throws {
        let folder = directory.appendingPathComponent("document")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = """
            Areo bundle

            Products made on demand by Areo \(areoVersion) from telemetry packets archived exactly as received.
            data_raw: decoded DN per band (framelets stacked in exposure order), float32 little-endian.
            data_calibrated: I/F per band (bias, flat, bad samples interpolated, DN to radiance to I/F).
            data_projected: map-projected I/F per band (equirectangular, or polar stereographic poleward
            of 65 degrees; Mars sphere of radius 3396190 m), Cart discipline in each label.
            browse: colour composites (PNG). Special constants: missing 0xFF7FFFFB, saturated 0xFF7FFFFE.
            Each product's Mission_Area names the geometry kernel and calibration set it was made with;
            a product reprocessed with newer ones has the next major version id.

            """.replacingOccurrences(of: "\n", with: "\r\n")
        let bytes = Array(text.utf8)
        try Data(bytes).write(to: folder.appendingPathComponent("areo_bundle_description.txt"))
        let lid = "urn:esa:psa:areo:document:areo_bundle_description"
        try BundleLabels.document(lid: lid, vid: vid, file: "areo_bundle_description.txt", md5: DeliveryManifest.md5(bytes), size: bytes.count, creation: creation)
            .write(to: folder.appendingPathComponent("areo_bundle_description.xml"), atomically: true, encoding: .utf8)
        members["document", default: []].append("\(lid)::\(vid)")
    }

}

/// Export refused or failed, with the reason.
public struct ExportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
