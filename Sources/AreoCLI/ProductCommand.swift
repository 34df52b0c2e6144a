import AreoProcessing
import AreoProducts
import AreoArchive
import AreoTelemetry
import AreoCompute
import ArgumentParser
import Foundation
import Logging

/// `areo product OBS KIND [--band B | --bands NIR,PAN,BLU] [--scale M] --format png|jpg|dat --out FILE`
struct ProductCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "product",
        abstract: "Make a product of an observation on demand, with the newest applicable geometry and calibration.",
        discussion: """
            KIND is raw (decoded DN, framelets stacked), calibrated (I/F, stacked), projected (I/F of one band, \
            map-projected) or composite (three bands as colour: NIR,PAN,BLU | NIR,RED,BLU | NIR,RED,PAN | RED,PAN,BLU | PAN,BLU). \
            With --format dat the PDS4 label is written beside FILE (same name, .xml). Quality measures go to stderr \
            (or stdout as JSON with --json).
            """)

    @OptionGroup var common: CommonOptions
    @Argument(help: "Observation id.") var observation: Int
    @Argument(help: "raw | calibrated | projected | composite") var kind: String
    @Option(help: "Band (PAN, RED, NIR, BLU) for raw, calibrated and projected products.") var band: String?
    @Option(help: "Bands of a composite, red to blue, e.g. NIR,PAN,BLU.") var bands: String?
    @Option(help: "Metres per pixel for projected products.") var scale: Double = ProductRequest.defaultScale
    @Option(help: "png | jpg | dat") var format: String
    @Option(help: "Output file.") var out: String
    @Flag(help: "Print the product's identity and quality as JSON.") var json = false

    func run() async throws {
        LoggingSetup.once
        let logger = common.makeLogger()
        guard let kind = ProductRequest.Kind(rawValue: kind) else { throw ValidationError("KIND must be raw, calibrated, projected or composite") }
        guard let format = ProductFormat(rawValue: format) else { throw ValidationError("--format must be png, jpg or dat") }
        let names = (bands ?? band ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces).uppercased() }
        let chosen = try names.map { name -> Band in
            guard let band = Band(name: name) else { throw ValidationError("unknown band '\(name)' (PAN, RED, NIR, BLU)") }
            return band
        }
        let request: ProductRequest
        do {
            request = try ProductRequest(observationID: observation, kind: kind, bands: chosen, scale: scale, format: format)
        } catch {
            throw ValidationError(error.description)
        }
        let url = URL(fileURLWithPath: out)
        // The label beside FILE names FILE (its size and MD5 are of the bytes written there).
        let dataName = url.lastPathComponent
        guard !dataName.isEmpty, url.pathExtension.lowercased() != "xml" || format != .dat else {
            throw ValidationError("--out names the data file (e.g. product.dat); its label is written beside it as .xml")
        }
        let file = try await DatabaseSession.withDatabase(common, logger: logger) { database in
            // On the compute threads, as a server's render is (here one per core), child tasks too.
            try await withTaskExecutorPreference(ComputeThreads.shared) {
                try await ProductService(database: database, logger: logger).product(request, dataFileName: dataName)
            }
        }
        try Data(file.bytes).write(to: url, options: .atomic)
        if let label = file.label {
            try Data(label.utf8).write(to: url.deletingPathExtension().appendingPathExtension("xml"), options: .atomic)
        }
        struct Summary: Encodable {
            let file: String
            let request: ProductRequest
            let provenance: ProductProvenance
            let bytes: Int
            let quality: ObservationProcessor.ProductQuality
        }
        let summary = Summary(file: out, request: request, provenance: file.provenance, bytes: file.bytes.count, quality: file.quality)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let text = String(decoding: try encoder.encode(summary), as: UTF8.self)
        if json { print(text) } else {
            print("\(out): \(file.bytes.count) bytes, kernel \(file.provenance.kernelID), calibration \(file.provenance.calibrationID)")
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }
}
