import AreoCompute
import AreoGeometry
import AreoRadiometry
import AreoTelemetry
import Foundation
import Logging

/// The one way an input enters the archive, from the CLI and the API alike: pass files, plans,
/// the housekeeping dictionary, instrument descriptions, calibration sets and geometry
/// kernels, shape models and reference maps. Each load stores its input (validated by its repository), then refreshes the
/// catalogue rows of the observations that input can affect (``ObservationCatalog/Scope``: a
/// pass's observations, a plan's, those a kernel's coverage or a calibration set's start
/// reaches; all of them only for a new instrument), which bumps the catalogue generation and notifies every Areo process
/// (PostgreSQL `NOTIFY areo_catalog`) in the same transaction — so a server regenerates the
/// products the load made stale whoever made the load. The rule "after every load: refresh,
/// bump, notify" is written here once, not at each call site.
public struct ArchiveLoads: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// What a load stored, and what the catalogue refresh after it changed.
    public struct Loaded<Input: Sendable>: Sendable {
        public var input: Input
        public var catalogue: ObservationCatalog.RefreshReport
    }

    /// Ingests pass files in order (ICD §2–6), then refreshes once.
    public func passes(_ files: [URL], batchSize: Int = 4000) async throws -> Loaded<[PassIngestor.Report]> {
        try await load {
            var reports: [PassIngestor.Report] = []
            for file in files {
                var ingestor = PassIngestor(database: database, logger: logger)
                ingestor.batchSize = max(1, batchSize)
                reports.append(try await ingestor.ingest(file: file))
            }
            return reports
        } scope: { catalog, reports in
            var scopes: [ObservationCatalog.Scope] = []
            for report in reports where !report.alreadyIngested { scopes.append(try await catalog.scope(pass: report.passID)) }
            return catalog.union(scopes)
        }
    }

    /// Ingests one pass file recorded under `name` (an upload spooled to `file`).
    public func pass(file: URL, name: String) async throws -> Loaded<PassIngestor.Report> {
        try await load { try await PassIngestor(database: database, logger: logger).ingest(file: file, name: name) } scope: { catalog, report in
            report.alreadyIngested ? .none : try await catalog.scope(pass: report.passID)
        }
    }

    /// Loads plan files (ICD §10), then refreshes once.
    public func plans(_ files: [(data: Data, name: String)]) async throws -> Loaded<[PlanRepository.LoadReport]> {
        try await load {
            var reports: [PlanRepository.LoadReport] = []
            for file in files { reports.append(try await PlanRepository(database: database, logger: logger).load(file.data, file: file.name)) }
            return reports
        } scope: { _, reports in
            .observations(Set(reports.flatMap(\.observations)))
        }
    }

    /// Loads (replaces) the housekeeping dictionary (ICD §5), then derives the engineering
    /// values and limit checks of every housekeeping sample already stored with it.
    public func housekeepingDictionary(_ data: Data, file: String) async throws -> Loaded<HousekeepingDictionary> {
        try await load {
            let repository = HousekeepingRepository(database: database, logger: logger)
            let dictionary = try await repository.load(data, file: file)
            try await repository.rederive()
            return dictionary
        } scope: { _, _ in .none }
    }

    /// Loads an instrument description (ICD §8); another description under a name already held
    /// is refused (``InputConflict``) unless `replace`.
    public func instrument(_ data: Data, file: String, replace: Bool = false) async throws -> Loaded<InstrumentDescription> {
        let inputs = InputRepository(database: database, logger: logger)
        let before = try await inputs.latestInstrumentID()
        return try await load { try await inputs.loadInstrument(data, file: file, replace: replace) } scope: { _, _ in
            // A new description reshapes every footprint; the same one again changes nothing.
            try await inputs.latestInstrumentID() == before ? .none : .all
        }
    }

    /// Loads a calibration set from its directory (ICD §9); one already held under its id with
    /// other content is refused (``InputConflict``) unless `replace`.
    public func calibration(directory: URL, replace: Bool = false) async throws -> Loaded<CalibrationSet> {
        try await load { try await InputRepository(database: database, logger: logger).loadCalibration(directory: directory, replace: replace) } scope: {
            try await $0.scope(calibration: $1)
        }
    }

    /// Loads geometry kernels (ICD §7), then refreshes once; a kernel already held under its id
    /// with other content is refused (``InputConflict``) unless `replace`.
    public func kernels(_ files: [(data: Data, name: String)], replace: Bool = false) async throws -> Loaded<[GeometryKernel]> {
        try await load {
            var kernels: [GeometryKernel] = []
            for file in files {
                kernels.append(try await ClockService(database: database, logger: logger).loadKernel(file.data, file: file.name, replace: replace))
            }
            return kernels
        } scope: { catalog, kernels in
            var scopes: [ObservationCatalog.Scope] = []
            for kernel in kernels { scopes.append(try await catalog.scope(kernel: kernel)) }
            return catalog.union(scopes)
        }
    }

    /// Loads a shape model (ICD §11) from `path` (`NAME.dem.tif`, its side file beside it); one
    /// already held under its id with other content is refused (``InputConflict``) unless
    /// `replace`. The observations it can affect are recomputed: those whose box it meets and
    /// those it met before (a replacement may move it).
    public func shapeModel(path: String, file: String, replace: Bool = false) async throws -> Loaded<ShapeModelRepository.Stored> {
        try await load { try await ShapeModelRepository(database: database, logger: logger).load(path: path, file: file, replace: replace) } scope: {
            try await $0.scope(shapeModel: $1)
        }
    }

    /// Loads a reference map (ICD §12) from `path` (`NAME.tif`, its side file beside it); one
    /// already held under its id with other content is refused (``InputConflict``) unless
    /// `replace`. Products do not change; the observations it meets are refreshed, which notifies
    /// the refinement scheduler that control arrived for them.
    public func referenceMap(path: String, file: String, replace: Bool = false) async throws -> Loaded<ReferenceMapRepository.Stored> {
        try await load { try await ReferenceMapRepository(database: database, logger: logger).load(path: path, file: file, replace: replace) } scope: {
            try await $0.scope(referenceMap: $1)
        }
    }

    /// Stores an input, then refreshes the catalogue rows it can affect (which bumps the
    /// generation and notifies).
    private func load<Input: Sendable>(
        _ store: () async throws -> Input, scope: (ObservationCatalog, Input) async throws -> ObservationCatalog.Scope
    ) async throws -> Loaded<Input> {
        // Parsing, CRCs, hashing and footprints are CPU work: on the compute threads, not on
        // the threads that serve requests (an upload must not slow every other request).
        try await withTaskExecutorPreference(ComputeThreads.shared) {
            let input = try await store()
            let catalog = ObservationCatalog(database: database, logger: logger)
            let catalogue = try await catalog.refresh(try await scope(catalog, input))
            return Loaded(input: input, catalogue: catalogue)
        }
    }
}

extension ObservationCatalog {
    /// Every observation of several scopes.
    func union(_ scopes: [Scope]) -> Scope {
        var ids = Set<Int>()
        for scope in scopes {
            switch scope {
            case .all: return .all
            case .observations(let some): ids.formUnion(some)
            }
        }
        return .observations(ids)
    }
}
