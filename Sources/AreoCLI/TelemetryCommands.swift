import AreoArchive
import AreoProducts
import AreoTelemetry
import ArgumentParser
import Foundation
import Logging

/// Prints `value` as stable, pretty, key-sorted JSON.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// `areo ingest PASS.dds…`
struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Ingest pass files (ICD §2–6); re-ingesting a pass changes nothing.")

    @OptionGroup var common: CommonOptions
    @Flag(help: "Print the reports as JSON.") var json = false
    @Option(help: "Records written per transaction.") var batchSize = 4000
    @Argument(help: "Pass files (*.dds).") var passes: [String]

    func run() async throws {
        LoggingSetup.once
        let logger = common.makeLogger()
        let (files, batchSize) = (passes, self.batchSize)
        let reports = try await DatabaseSession.withDatabase(common, logger: logger) { database in
            CatalogueRefresh.report(try await ArchiveLoads(database: database, logger: logger)
                .passes(files.map { URL(fileURLWithPath: $0) }, batchSize: batchSize))
        }
        if json { try printJSON(reports); return }
        for r in reports {
            if r.alreadyIngested { print("\(r.file): already ingested (pass \(r.passID)), nothing changed"); continue }
            print("\(r.file): pass \(r.passID): \(r.records) records, \(r.newPackets) new packets, \(r.duplicates) duplicates, "
                + "\(r.crcErrors) CRC errors, \(r.damagedBytes) damaged bytes, \(r.clockWrapCorrected) clock-wrap corrections, "
                + "\(r.fragmentsCompleted) fragments completed, \(r.anomalies) anomalies")
        }
    }
}

/// `areo plan load FILE…`
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Observation plans (ICD §10).", subcommands: [Load.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load *.plan.jsonl files.")
        @OptionGroup var common: CommonOptions
        @Flag(help: "Print the result as JSON.") var json = false
        @Argument var files: [String]

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let files = self.files
            var contents: [(data: Data, name: String)] = []
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                contents.append((data, file))
            }
            let reports = try await DatabaseSession.withDatabase(common, logger: logger) { [contents] database in
                CatalogueRefresh.report(try await ArchiveLoads(database: database, logger: logger).plans(contents))
            }
            if json { try printJSON(reports); return }
            for r in reports {
                print("\(r.file): \(r.observations.count) observation(s) loaded")
                for id in r.spanningClockWrap { print("  observation \(id) spans a coarse-clock wrap (ICD §6): expect corrected time stamps") }
            }
        }
    }
}

/// `areo housekeeping load hk-dictionary.json`
struct HousekeepingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "housekeeping", abstract: "Housekeeping definitions (ICD §5).", subcommands: [Load.self, Rederive.self])

    struct Rederive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Finish deriving engineering values and limit checks of the stored housekeeping with the dictionary (resumes where an interrupted load stopped).")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let result = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                try await HousekeepingRepository(database: database, logger: logger).rederive()
            }
            print("\(result.packets) packets, \(result.samples) samples derived; \(result.violations) limit violations")
        }
    }

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load the housekeeping dictionary (replaces the one in force).")
        @OptionGroup var common: CommonOptions
        @Argument var file: String

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let file = self.file
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let dictionary = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                CatalogueRefresh.report(try await ArchiveLoads(database: database, logger: logger).housekeepingDictionary(data, file: file))
            }
            print("\(dictionary.dictionaryID): \(dictionary.channels.count) channels")
        }
    }
}

/// `areo report completeness|health|anomalies`
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Reports for the operations team.", subcommands: [Completeness.self, Health.self, AnomaliesReport.self, Mechanism.self, Timing.self])

    struct Completeness: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Completeness per observation, compared with its plan.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Only observations with packets in this pass (id).") var pass: Int?
        @Option(help: "Only this observation.") var observation: Int?
        @Flag var json = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let (pass, observation) = (self.pass, self.observation)
            let report = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                try await Reports(database: database, logger: logger).completeness(passID: pass, observationID: observation)
            }
            if json { try printJSON(report); return }
            for o in report.observations {
                print("observation \(o.observationID): \(o.status.rawValue) — \(o.completeFragments)/\(o.expectedFragments) complete, "
                    + "\(o.incompleteFragments) incomplete, \(o.corruptFragments) corrupt, \(o.missingFragments) missing, "
                    + "\(o.unexpectedFragments) unexpected, \(o.headerMismatches) header mismatches"
                    + (o.clockWrapCorrected ? ", clock wrap corrected" : ""))
            }
            printAnomalies(report.anomalies)
        }
    }

    struct Health: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Daily housekeeping synopsis (by earth received time, UTC).")
        @OptionGroup var common: CommonOptions
        @Option(help: "YYYY-MM-DD") var day: String
        @Flag var json = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let day = self.day
            let report = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                try await Reports(database: database, logger: logger).health(day: day)
            }
            if json { try printJSON(report); return }
            print("housekeeping on \(report.day)")
            for c in report.channels {
                print(String(format: "  %-15@ %6d samples  min %10.3f  max %10.3f  mean %10.3f %@  yellow %d  red %d",
                             c.name, c.samples, c.min, c.max, c.mean, c.unit, c.yellowViolations, c.redViolations))
            }
            if let pending = report.commandsPending { print("  commands pending at end of day: \(Int(pending))") }
            printAnomalies(report.violations)
        }
    }

    struct Mechanism: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The rotation mechanism's estimated offsets over observation time, with their evidence and drift (ICD §8).")
        @OptionGroup var common: CommonOptions
        @Option(help: "Only this observation.") var observation: Int?
        @Option(help: "An offset beyond this many degrees is flagged (default 0.3, as `serve`).") var limit: Double = 0.3
        @Flag var json = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            guard limit.isFinite, (0...180).contains(limit) else { throw ValidationError("--limit is 0…180 degrees") }
            let observation = self.observation
            let records = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                try await ObservationCorrectionsRepository(database: database, logger: logger).history(observationID: observation, publicOnly: false, limit: 100_000)
            }
            let report = MechanismReport(records: records, limitDegrees: limit)
            if json { try printJSON(report); return }
            print("\(report.estimates.count) estimate\(report.estimates.count == 1 ? "" : "s"); limit ±\(limit)°"
                + (report.driftDegreesPerDay.map { String(format: "; drift %+.5f°/day", $0) } ?? ""))
            for row in report.estimates {
                let offset = String(format: "%+.4f°", row.offsetDegrees) + (row.uncertaintyDegrees.map { String(format: " ± %.4f°", $0) } ?? "")
                let fringing = [row.fringingBeforePixels, row.fringingAfterPixels].map { $0.map { String(format: "%.3f", $0) } ?? "-" }.joined(separator: " → ")
                print("  observation \(row.observationID) sclk \(String(format: "%.1f", row.observationStartSCLK)): \(offset), fringing \(fringing) px"
                    + (row.beyondLimit ? "  BEYOND LIMIT" : "") + (row.reason.map { "  (\($0))" } ?? "")
                    + (row.straylightEpsilon.map { String(format: ", straylight ε %+.3f", $0) } ?? ""))
            }
        }
    }

    struct Timing: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The timing errors of the predicted kernels found by refinement, fitted over time, to offset future commands (ICD §12).")
        @OptionGroup var common: CommonOptions
        @Option(help: "From, ISO 8601 UTC.") var from: String?
        @Option(help: "To, ISO 8601 UTC.") var to: String?
        @Flag var json = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            func time(_ text: String?, _ name: String) throws -> Double? {
                guard let text else { return nil }
                guard let date = GroundTime.parse(text) else { throw ValidationError("--\(name) is an ISO 8601 UTC time") }
                return GroundTime.t(date: date)
            }
            let (from, to) = (try time(self.from, "from") ?? -1e15, try time(self.to, "to") ?? 1e15)
            let report = TimingReport(try await DatabaseSession.withDatabase(common, logger: logger) {
                try await GeometryRefinementRepository(database: $0, logger: logger).predictedTiming(fromT: from, toT: to)
            })
            if json { try printJSON(report); return }
            if report.kernels.isEmpty { print("no predicted kernel has been refined") }
            for fit in report.kernels {
                print(String(format: "%@: offset %+.4f ± %.4f s at %@", fit.kernelID, fit.offsetSeconds, fit.offsetSigmaSeconds, fit.epochUTC)
                    + (fit.driftSecondsPerDay.map { String(format: ", drift %+.5f s/day", $0) } ?? "") + " over \(fit.points.count) observation\(fit.points.count == 1 ? "" : "s")")
                for p in fit.points { print(String(format: "  observation %d at %@: %+.4f ± %.4f s", p.observationID, p.utc, p.timeOffsetSeconds, p.sigmaSeconds)) }
            }
        }
    }

    struct AnomaliesReport: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "anomalies", abstract: "List anomalies.")
        @OptionGroup var common: CommonOptions
        @Option var pass: Int?
        @Option var observation: Int?
        @Flag var json = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let (pass, observation) = (self.pass, self.observation)
            let rows = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                try await Reports(database: database, logger: logger).anomalies(passID: pass, observationID: observation)
            }
            if json { try printJSON(rows); return }
            printAnomalies(rows)
        }
    }
}

func printAnomalies(_ rows: [Reports.AnomalyRow]) {
    print("\(rows.count) anomal\(rows.count == 1 ? "y" : "ies")")
    for a in rows {
        var place: [String] = []
        if let o = a.observationID { place.append("observation \(o)") }
        if let p = a.passID { place.append("pass \(p)") }
        if let f = a.fileOffset { place.append("offset \(f)") }
        let evidence = a.evidence.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        print("  [\(a.severity)] \(a.kind) \(place.joined(separator: ", ")): \(evidence)")
    }
}

/// `areo packets --apid A --sclk FROM:TO | --ert FROM:TO`
struct PacketsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "packets", abstract: "Query stored packets by APID and SCLK range, or by earth received time range.")
    @OptionGroup var common: CommonOptions
    @Option(help: "APID (with --sclk).") var apid: Int?
    @Option(help: "Corrected SCLK range FROM:TO in seconds.") var sclk: String?
    @Option(help: "ERT range FROM:TO, ISO 8601 UTC.") var ert: String?
    @Option(help: "At most this many packets.") var limit = 1000
    @Flag var json = false

    func validate() throws {
        guard (apid != nil && sclk != nil) || ert != nil else {
            throw ValidationError("give --apid with --sclk FROM:TO, or --ert FROM:TO")
        }
    }

    func run() async throws {
        LoggingSetup.once
        let logger = common.makeLogger()
        let sclkRange = try sclk.map(RangeArgument.sclk)
        let ertRange = try ert.map(RangeArgument.ert)
        let (apid, limit) = (self.apid, self.limit)
        let rows = try await DatabaseSession.withDatabase(common, logger: logger) { database in
            try await Reports(database: database, logger: logger).packets(apid: apid, sclk: sclkRange, ertMicroseconds: ertRange, limit: limit)
        }
        if json { try printJSON(rows); return }
        for p in rows {
            print("packet \(p.id) apid \(p.apid) seq \(p.sequenceCount) sclk \(p.sclkRaw)\(p.wrapCorrection != 0 ? " (corrected \(p.sclk))" : "") "
                + "\(p.length) B \(p.crcOK ? "" : "CRC-ERROR ")ert \(p.firstERT) pass \(p.passID)")
        }
    }
}

/// `areo fragments --sclk FROM:TO | --ert FROM:TO`
struct FragmentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fragments", abstract: "Query reassembled fragments by exposure start (SCLK) or by earth received time.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Corrected exposure-start SCLK range FROM:TO in seconds.") var sclk: String?
    @Option(help: "ERT range FROM:TO, ISO 8601 UTC.") var ert: String?
    @Option(help: "At most this many fragments.") var limit = 1000
    @Flag var json = false

    func validate() throws {
        guard sclk != nil || ert != nil else { throw ValidationError("give --sclk FROM:TO or --ert FROM:TO") }
    }

    func run() async throws {
        LoggingSetup.once
        let logger = common.makeLogger()
        let sclkRange = try sclk.map(RangeArgument.sclk)
        let ertRange = try ert.map(RangeArgument.ert)
        let limit = self.limit
        let rows = try await DatabaseSession.withDatabase(common, logger: logger) { database in
            try await Reports(database: database, logger: logger).fragments(sclk: sclkRange, ertMicroseconds: ertRange, limit: limit)
        }
        if json { try printJSON(rows); return }
        for f in rows {
            print("observation \(f.observationID) framelet \(f.framelet) \(f.band) \(f.compression) \(f.status) start \(f.exposureStart)"
                + "\(f.exposureStart != f.exposureStartRaw ? " (raw \(f.exposureStartRaw))" : "") \(f.bytes) B in \(f.packets) packets, ert \(f.firstERT)")
        }
    }
}

/// Parsing of the `FROM:TO` range options.
enum RangeArgument {
    static func sclk(_ text: String) throws -> ClosedRange<Double> {
        let parts = text.split(separator: ":").compactMap { Double($0) }
        guard parts.count == 2, parts[0] <= parts[1] else { throw ValidationError("an SCLK range must be FROM:TO seconds, is '\(text)'") }
        return parts[0]...parts[1]
    }

    /// ISO times contain colons: the range splits on the colon after the first time's `Z`.
    static func ert(_ text: String) throws -> ClosedRange<Int64> {
        guard let split = text.range(of: "Z:"), let a = GroundTime.parse(String(text[..<split.lowerBound]) + "Z"),
              let b = GroundTime.parse(String(text[split.upperBound...])), a <= b
        else { throw ValidationError("an ERT range must be FROM:TO as ISO 8601 UTC times ending in Z, is '\(text)'") }
        return Int64(a.timeIntervalSince1970 * 1e6)...Int64(b.timeIntervalSince1970 * 1e6)
    }
}
