import AreoCompute
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Who a render is for, highest first (the MOC archive server's resource allocation).
public enum RenderPriority: Int, Sendable, Codable, Comparable, CaseIterable {
    /// A client is waiting for it.
    case interactive = 0
    /// A browsing client said it will want it next.
    case hinted = 1
    /// A spatial neighbour of something just served.
    case neighbour = 2
    /// A recently used product whose inputs changed.
    case regeneration = 3

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var name: String { String(describing: self) }
}

/// How far a render is: framelets loaded of framelets needed.
public final class RenderProgress: Sendable {
    let state = Mutex((done: 0, total: 0))
    public init() {}
    public func update(done: Int, total: Int) { state.withLock { $0 = (done, total) } }
    public var fraction: Double { state.withLock { $0.total == 0 ? 0 : Double($0.done) / Double($0.total) } }
    public var counts: (done: Int, total: Int) { state.withLock { $0 } }
}

/// What a render leaves behind: the products it made, already in the cache when they fit.
public struct RenderResult: Sendable {
    public struct Product: Sendable {
        public var entry: ProductCache.Entry
        /// Where the bytes are (cached), or the bytes themselves (too large for the cache).
        public var path: String?
        public var bytes: [UInt8]?
        public init(entry: ProductCache.Entry, path: String?, bytes: [UInt8]?) {
            (self.entry, self.path, self.bytes) = (entry, path, bytes)
        }
    }
    /// By cache key (a `dat` render also yields its `xml` label).
    public var products: [String: Product]
    /// Whether a render actually ran (false when the work found the product already cached).
    public var rendered: Bool
    public init(products: [String: Product], rendered: Bool) { (self.products, self.rendered) = (products, rendered) }
}

/// The one worker pool all renders go through.
///
/// Renders are keyed by what they make: identical concurrent requests share one render; each
/// waiting request is a *waiter*, each background reason (a prefetch session, regeneration, a
/// neighbour) an *owner*. A job whose waiters have all gone and that no owner still wants is
/// cancelled — dequeued, or stopped at its next framelet if running. Workers (as many as
/// cores) take the highest-priority queued job first, oldest first within a priority.
public final class RenderScheduler: Service, Sendable {
    public typealias Work = @Sendable (RenderProgress) async throws -> RenderResult

    public enum State: String, Sendable, Codable { case queued, running, done, failed, cancelled }

    /// A job as `/v1/jobs` shows it.
    public struct JobStatus: Sendable, Codable, Equatable {
        public var id: String
        public var product: String
        public var priority: String
        public var state: State
        public var progress: Double
        public var frameletsDone: Int
        public var frameletsTotal: Int
        public var waiters: Int
        public var owners: [String]
        public var createdAt: Date
        public var startedAt: Date?
        public var finishedAt: Date?
        public var error: String?
        /// Whether the public may see this job (its observations are all public); fail closed.
        public var isPublic: Bool

        enum CodingKeys: String, CodingKey {
            case id, product, priority, state, progress, waiters, owners, error, frameletsDone, frameletsTotal, createdAt, startedAt, finishedAt
            case isPublic = "public"
        }
    }

    /// Counters for `/v1/jobs` and metrics.
    public struct Statistics: Sendable, Codable, Equatable {
        public var workers: Int
        public var queued: Int
        public var running: Int
        /// Renders that began (one per distinct product made).
        public var started: Int
        public var completed: Int
        public var failed: Int
        public var cancelled: Int
        /// Requests that joined a render already queued or running.
        public var coalesced: Int
        public var byPriority: [String: Int]
    }

    final class Job: @unchecked Sendable {
        // Every field is read and written under the scheduler's lock only.
        let id = UUID()
        let key: String
        let product: String
        var priority: RenderPriority
        let sequence: UInt64
        let work: Work
        var state: State = .queued
        var waiters: [UUID: CheckedContinuation<RenderResult, any Error>] = [:]
        var owners: Set<String> = []
        let progress = RenderProgress()
        let stop = CancellationSignal()
        let createdAt = Date()
        var startedAt: Date?
        var finishedAt: Date?
        var error: String?
        let isPublic: Bool

        init(key: String, product: String, priority: RenderPriority, sequence: UInt64, isPublic: Bool, work: @escaping Work) {
            (self.key, self.product, self.priority, self.sequence, self.isPublic, self.work) = (key, product, priority, sequence, isPublic, work)
        }

        var status: JobStatus {
            let (done, total) = progress.counts
            return JobStatus(
                id: id.uuidString.lowercased(), product: product, priority: priority.name, state: state,
                progress: state == .done ? 1 : progress.fraction, frameletsDone: done, frameletsTotal: total, waiters: waiters.count,
                owners: owners.sorted(), createdAt: createdAt, startedAt: startedAt, finishedAt: finishedAt, error: error, isPublic: isPublic)
        }
    }

    struct Shared {
        var active: [String: Job] = [:]
        var queue: [Job] = []
        var recent: [UUID: Job] = [:]
        var recentOrder: [UUID] = []
        var idleWorkers: [CheckedContinuation<Job?, Never>] = []
        var shuttingDown = false
        var sequence: UInt64 = 0
        var statistics: Statistics
    }

    public let workers: Int
    let logger: Logger
    let shared: Mutex<Shared>
    /// Called when a job changes state (metrics).
    let observer: @Sendable (State, RenderPriority) -> Void

    /// - Parameter workers: pool size, by default the number of cores.
    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount, logger: Logger,
                observer: @escaping @Sendable (State, RenderPriority) -> Void = { _, _ in }) {
        self.workers = max(1, workers)
        self.logger = logger
        self.observer = observer
        shared = Mutex(Shared(statistics: Statistics(
            workers: max(1, workers), queued: 0, running: 0, started: 0, completed: 0, failed: 0, cancelled: 0, coalesced: 0, byPriority: [:])))
    }

    // MARK: Service

    /// Runs the worker pool until graceful shutdown or cancellation; queued jobs are then
    /// cancelled and running ones finish.
    public func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for _ in 0..<workers { group.addTask { await self.workerLoop() } }
            }
        } onCancelOrGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Drops the queue and stops the renders in progress (each stops at its next framelet), so
    /// a graceful shutdown does not wait for renders nobody will receive.
    func shutdown() {
        let (idle, dropped, running) = shared.withLock { s -> ([CheckedContinuation<Job?, Never>], [Job], [Job]) in
            s.shuttingDown = true
            let idle = s.idleWorkers
            s.idleWorkers = []
            let dropped = s.queue
            s.queue = []
            return (idle, dropped, s.active.values.filter { $0.state == .running })
        }
        for worker in idle { worker.resume(returning: nil) }
        for job in dropped { finish(job, with: .failure(CancellationError()), state: .cancelled) }
        for job in running { job.stop.fire() }
    }

    private func workerLoop() async {
        while let job = await nextJob() {
            let result: Result<RenderResult, any Error>
            do {
                result = .success(try await Self.race(job.work, progress: job.progress, until: job.stop))
            } catch {
                result = .failure(error)
            }
            let state: State
            switch result {
            case .success: state = .done
            case .failure(let error): state = error is CancellationError || job.stop.isFired ? .cancelled : .failed
            }
            finish(job, with: result, state: state)
        }
    }

    /// Runs `work` until it ends or `stop` fires (then it is cancelled and CancellationError
    /// thrown). The work, and every child task it starts, runs on ``ComputeThreads/shared``:
    /// never on the cooperative pool's threads that serve requests.
    static func race(_ work: @escaping Work, progress: RenderProgress, until stop: CancellationSignal) async throws -> RenderResult {
        try await withThrowingTaskGroup(of: RenderResult?.self) { group in
            group.addTask(executorPreference: ComputeThreads.shared) { try await work(progress) }
            group.addTask { await stop.wait(); return nil }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else { throw CancellationError() }
            return result
        }
    }

    private func nextJob() async -> Job? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Job?, Never>) in
            let job = shared.withLock { s -> Job?? in
                if s.shuttingDown { return .some(nil) }
                guard let job = Self.dequeue(&s) else {
                    s.idleWorkers.append(continuation)
                    return nil
                }
                return .some(job)
            }
            if let job { continuation.resume(returning: job) }
        }
    }

    /// Takes the best queued job and marks it running (under the lock).
    private static func dequeue(_ s: inout Shared) -> Job? {
        guard let index = s.queue.indices.min(by: { (s.queue[$0].priority, s.queue[$0].sequence) < (s.queue[$1].priority, s.queue[$1].sequence) })
        else { return nil }
        let job = s.queue.remove(at: index)
        job.state = .running
        job.startedAt = Date()
        s.statistics.started += 1
        s.statistics.byPriority[job.priority.name, default: 0] += 1
        return job
    }

    private func finish(_ job: Job, with result: Result<RenderResult, any Error>, state: State) {
        let waiters = shared.withLock { s -> [CheckedContinuation<RenderResult, any Error>] in
            job.state = state
            job.finishedAt = Date()
            if case .failure(let error) = result, state == .failed { job.error = String(describing: error) }
            if s.active[job.key] === job { s.active[job.key] = nil }
            switch state {
            case .done: s.statistics.completed += 1
            case .failed: s.statistics.failed += 1
            case .cancelled: s.statistics.cancelled += 1
            case .queued, .running: break
            }
            let waiting = Array(job.waiters.values)
            job.waiters = [:]
            return waiting
        }
        observer(state, job.priority)
        if state == .failed { logger.error("render failed", metadata: ["product": "\(job.product)", "error": "\(job.error ?? "")"]) }
        if state == .cancelled { logger.info("render cancelled", metadata: ["product": "\(job.product)"]) }
        for waiter in waiters { waiter.resume(with: result) }
    }

    // MARK: Submitting

    /// Renders `key` (or joins its render) and waits for it. Cancelling the calling task
    /// withdraws this waiter; the render is cancelled when nobody else wants it.
    /// - Parameter isPublic: whether the public may see the job in listings (its observations
    ///   are all public); false hides it from them.
    public func render(key: String, product: String, priority: RenderPriority = .interactive, isPublic: Bool = false, work: @escaping Work) async throws -> RenderResult {
        let waiter = UUID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RenderResult, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                let worker = shared.withLock { s -> (CheckedContinuation<Job?, Never>, Job)? in
                    let job = Self.job(for: key, product: product, priority: priority, isPublic: isPublic, work: work, in: &s)
                    job.waiters[waiter] = continuation
                    return Self.wakeWorker(&s)
                }
                if let (worker, job) = worker { worker.resume(returning: job) }
            }
        } onCancel: {
            self.withdraw(waiter: waiter, key: key)
        }
    }

    /// Queues `key` for `owner` without waiting (prefetch, neighbours, regeneration).
    @discardableResult
    public func submit(key: String, product: String, priority: RenderPriority, owner: String, isPublic: Bool = false, work: @escaping Work) -> JobStatus {
        let (status, worker) = shared.withLock { s -> (JobStatus, (CheckedContinuation<Job?, Never>, Job)?) in
            let job = Self.job(for: key, product: product, priority: priority, isPublic: isPublic, work: work, in: &s)
            job.owners.insert(owner)
            return (job.status, Self.wakeWorker(&s))
        }
        if let (worker, job) = worker { worker.resume(returning: job) }
        return status
    }

    /// `owner` no longer wants anything but the jobs of `keeping`: its other jobs that nobody
    /// else wants are cancelled. Returns the ids of the jobs cancelled.
    @discardableResult
    public func release(owner: String, keeping: Set<String> = []) -> [String] {
        let abandoned = shared.withLock { s -> [Job] in
            var abandoned: [Job] = []
            for job in s.active.values where job.owners.contains(owner) && !keeping.contains(job.key) {
                job.owners.remove(owner)
                if job.owners.isEmpty, job.waiters.isEmpty { abandoned.append(job) }
            }
            return abandoned
        }
        for job in abandoned { cancel(job) }
        return abandoned.map { $0.id.uuidString.lowercased() }
    }

    private func withdraw(waiter: UUID, key: String) {
        let (continuation, abandoned) = shared.withLock { s -> (CheckedContinuation<RenderResult, any Error>?, Job?) in
            guard let job = s.active[key], let continuation = job.waiters.removeValue(forKey: waiter) else { return (nil, nil) }
            return (continuation, job.waiters.isEmpty && job.owners.isEmpty ? job : nil)
        }
        continuation?.resume(throwing: CancellationError())
        if let abandoned { cancel(abandoned) }
    }

    private func cancel(_ job: Job) {
        let wasQueued = shared.withLock { s -> Bool in
            guard job.state == .queued, let index = s.queue.firstIndex(where: { $0 === job }) else { return false }
            s.queue.remove(at: index)
            return true
        }
        if wasQueued {
            finish(job, with: .failure(CancellationError()), state: .cancelled)
        } else {
            job.stop.fire()
        }
    }

    /// The active job for `key`, created and queued when there is none; a more urgent request
    /// raises a queued job's priority.
    private static func job(for key: String, product: String, priority: RenderPriority, isPublic: Bool, work: @escaping Work, in s: inout Shared) -> Job {
        if let job = s.active[key], !job.stop.isFired {
            s.statistics.coalesced += 1
            if priority < job.priority, job.state == .queued { job.priority = priority }
            return job
        }
        s.sequence += 1
        let job = Job(key: key, product: product, priority: priority, sequence: s.sequence, isPublic: isPublic, work: work)
        s.active[key] = job
        s.queue.append(job)
        s.recent[job.id] = job
        s.recentOrder.append(job.id)
        if s.recentOrder.count > 1000 { s.recent[s.recentOrder.removeFirst()] = nil }
        return job
    }

    private static func wakeWorker(_ s: inout Shared) -> (CheckedContinuation<Job?, Never>, Job)? {
        guard !s.idleWorkers.isEmpty, let job = dequeue(&s) else { return nil }
        return (s.idleWorkers.removeFirst(), job)
    }

    // MARK: Reading

    /// A job by id (also finished ones, while they are recent).
    public func status(id: String) -> JobStatus? {
        guard let uuid = UUID(uuidString: id) else { return nil }
        return shared.withLock { $0.recent[uuid]?.status }
    }

    /// Queued and running jobs, most urgent first.
    public func activeJobs() -> [JobStatus] {
        shared.withLock { s in
            s.active.values.sorted { ($0.priority, $0.sequence) < ($1.priority, $1.sequence) }.map(\.status)
        }
    }

    /// Recent jobs (finished ones included), newest first.
    public func recentJobs(limit: Int = 100) -> [JobStatus] {
        shared.withLock { s in s.recentOrder.suffix(limit).reversed().compactMap { s.recent[$0]?.status } }
    }

    public func statistics() -> Statistics {
        shared.withLock { s in
            var statistics = s.statistics
            statistics.queued = s.queue.count
            statistics.running = s.active.values.filter { $0.state == .running }.count
            return statistics
        }
    }
}

/// A one-shot signal a task can wait for; waiting ends when it fires or the waiting task is
/// cancelled.
public final class CancellationSignal: Sendable {
    let state = Mutex((fired: false, waiters: [UUID: CheckedContinuation<Void, Never>]()))

    public init() {}

    public var isFired: Bool { state.withLock { $0.fired } }

    /// Fires the signal: every waiter (now and later) returns.
    public func fire() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.fired = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the signal fires or the calling task is cancelled.
    public func wait() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.fired || Task.isCancelled { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
