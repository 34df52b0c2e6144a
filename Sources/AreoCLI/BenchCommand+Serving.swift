import AreoCompute
import AreoServer
import AreoArchive
import ArgumentParser
import Foundation
import Logging

extension BenchCommand {
    /// Cache-hit serving beside nginx serving the same file, and a cassis composite cold and warm.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve a ~1 MB cached PNG with `areo serve` and with nginx under wrk (32 connections); time a cassis composite cold and warm.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Housekeeping dictionary (ICD §5).") var hkDictionary = "../shared/icd/hk-dictionary.json"
        @Option(help: "wrk duration per run, seconds.") var duration = 10
        @Option(help: "wrk connections.") var connections = 32

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeBenchLogger()
            for tool in ["wrk", "nginx", "curl"] where ExternalTool.path(tool) == nil {
                throw ValidationError("\(tool) not found: install Debian's wrk, nginx-light (or nginx) and curl")
            }
            let (duration, connections) = (self.duration, self.connections)
            try await BenchCommand.withCassisArchive(common, hkDictionary: hkDictionary, logger: logger) { mission, location, observation in
                // The simulator embargoes a mission's first observation: ask as the science team.
                let token = try await Database.withDatabase(location: location, logger: logger) {
                    try await AccessTokens(database: $0, logger: logger).create(role: .team, label: "bench")
                }
                let authorization = "Authorization: Bearer \(token)"
                let work = mission.appendingPathComponent("serve")
                try FileManager.default.createDirectory(at: work.appendingPathComponent("www"), withIntermediateDirectories: true)

                // Areo in its own process, as deployed.
                let (server, base) = try BenchCommand.startAreo(location: location, cache: work.appendingPathComponent("cache"), extra: ["--cold-renders", "16"])
                defer { server.terminate(); server.waitUntilExit() }

                let composite = "\(base)/v1/observations/\(observation)/products/composite?bands=NIR,PAN,BLU&scale=4&format=png"
                let cold = try Self.curl(composite, to: work.appendingPathComponent("cold.png"), header: authorization)
                let warm = try Self.curl(composite, to: work.appendingPathComponent("warm.png"), header: authorization)
                print("cassis composite NIR-PAN-BLU PNG at 4 m (\(String(format: "%.1f", Double(cold.bytes) / 1e6)) MB): cold \(String(format: "%.2f", cold.seconds)) s, warm \(String(format: "%.1f", warm.seconds * 1000)) ms")

                // A product of about 1 MB: the composite at the scale whose PNG is nearest 1 MB.
                var chosen: (url: String, bytes: Int)? = nil
                for scale in [40, 30, 50, 25, 60] {
                    let url = "\(base)/v1/observations/\(observation)/products/composite?bands=NIR,PAN,BLU&scale=\(scale)&format=png"
                    let fetched = try Self.curl(url, to: work.appendingPathComponent("www/product.png"), header: authorization)
                    if chosen == nil || abs(fetched.bytes - 1_000_000) < abs(chosen!.bytes - 1_000_000) { chosen = (url, fetched.bytes) }
                    if abs(fetched.bytes - 1_000_000) < 250_000 { break }
                }
                guard let (url, _) = chosen else { throw ValidationError("no product was served") }
                let file = try Self.curl(url, to: work.appendingPathComponent("www/product.png"), header: authorization)
                print("the cached product: \(String(format: "%.2f", Double(file.bytes) / 1e6)) MB PNG")

                // nginx serving the same bytes as a static file.
                let nginxPort = Self.freePort()
                let nginx = try Self.startNginx(port: nginxPort, root: work.appendingPathComponent("www"), work: work)
                defer { nginx.terminate(); nginx.waitUntilExit() }
                try Self.waitUntilReady("http://127.0.0.1:\(nginxPort)/product.png")

                _ = try Self.wrk(url, seconds: 2, connections: connections, header: authorization)  // warm both up
                _ = try Self.wrk("http://127.0.0.1:\(nginxPort)/product.png", seconds: 2, connections: connections)
                let areo = try Self.wrk(url, seconds: duration, connections: connections, header: authorization)
                let peer = try Self.wrk("http://127.0.0.1:\(nginxPort)/product.png", seconds: duration, connections: connections)
                print("areo (cache hit):  \(String(format: "%8.0f", areo.requestsPerSecond)) requests/s, p99 \(String(format: "%.2f", areo.p99Milliseconds)) ms")
                print("nginx (peer file): \(String(format: "%8.0f", peer.requestsPerSecond)) requests/s, p99 \(String(format: "%.2f", peer.p99Milliseconds)) ms")
                print("ratio areo/nginx: \(String(format: "%.2f", areo.requestsPerSecond / peer.requestsPerSecond)) (goal ≥ 0.5) at \(connections) connections, \(ProcessInfo.processInfo.activeProcessorCount) cores shared by server and wrk")
                print("p99 areo/nginx: \(String(format: "%.2f", areo.p99Milliseconds / peer.p99Milliseconds)) (goal ≤ 2; the absolute 10 ms needs a load generator with its own cores)")

                try Self.latencyDuringColdRenders(base: base, observation: observation, product: url, authorization: authorization, work: work)
            }
        }

        /// `/healthz` and the ~1 MB cache hit, idle and then while 8 cold cassis composites
        /// render (each a distinct product at 4 m/pixel), by wrk at 4 connections.
        static func latencyDuringColdRenders(base: String, observation: Int, product: String, authorization: String, work: URL) throws {
            let seconds = 4
            // A small cached product too: the same path as the 1 MB hit (catalogue generation,
            // key, cache) with a body of a few kilobytes, to tell the path's cost from the body's.
            let small = "\(base)/v1/observations/\(observation)/products/composite?bands=NIR,PAN,BLU&scale=400&format=png"
            _ = try curl(small, to: work.appendingPathComponent("small.png"), header: authorization)
            let idleHealth = try wrk("\(base)/healthz", seconds: seconds, connections: 4)
            let idleHit = try wrk(product, seconds: seconds, connections: 4, header: authorization)
            let idleSmall = try wrk(small, seconds: seconds, connections: 4, header: authorization)
            // One client alone (one request in flight): its own latency, not the saturated machine's.
            let idleHealth1 = try wrk("\(base)/healthz", seconds: seconds, connections: 1)
            let idleHit1 = try wrk(product, seconds: seconds, connections: 1, header: authorization)
            // Eight products not made yet: the other composites at 4 and 5 m, the first at 5 and 6 m.
            let products = [("NIR,RED,BLU", 4), ("NIR,RED,PAN", 4), ("RED,PAN,BLU", 4), ("NIR,RED,BLU", 5),
                            ("NIR,RED,PAN", 5), ("RED,PAN,BLU", 5), ("NIR,PAN,BLU", 5), ("NIR,PAN,BLU", 6)]
            let renders = try products.enumerated().map { index, product in
                let (bands, scale) = product
                let process = Foundation.Process()
                process.executableURL = URL(fileURLWithPath: ExternalTool.path("curl")!)
                // Asked with `Prefer: respond-async` (202 and a job): the renders run as they
                // would for eight clients, without their 30 MB responses also being sent meanwhile.
                process.arguments = ["-s", "-o", work.appendingPathComponent("render-\(index).json").path, "-H", authorization,
                                     "-H", "Prefer: respond-async",
                                     "\(base)/v1/observations/\(observation)/products/composite?bands=\(bands)&scale=\(scale)&format=png"]
                try process.run()
                return process
            }
            defer { for render in renders where render.isRunning { render.terminate() } }
            usleep(500_000)
            let busyHealth = try wrk("\(base)/healthz", seconds: seconds, connections: 4)
            let busyHit = try wrk(product, seconds: seconds, connections: 4, header: authorization)
            let busySmall = try wrk(small, seconds: seconds, connections: 4, header: authorization)
            let busyHealth1 = try wrk("\(base)/healthz", seconds: seconds, connections: 1)
            let busyHit1 = try wrk(product, seconds: seconds, connections: 1, header: authorization)
            for render in renders { render.waitUntilExit() }
            let jobs = (try? ExternalTool.run("curl", ["-s", "-H", authorization, "\(base)/v1/jobs"])) ?? ""
            let inFlight = jobs.components(separatedBy: "\"running\"").count - 1 + jobs.components(separatedBy: "\"queued\"").count - 1
            func figures(_ r: WrkResult) -> String {
                "p50 \(String(format: "%6.2f", r.p50Milliseconds)) ms, p99 \(String(format: "%6.2f", r.p99Milliseconds)) ms, \(String(format: "%7.0f", r.requestsPerSecond)) requests/s"
            }
            print("latency at 4 connections, idle → during 8 cold composite renders (\(inFlight) jobs still running or queued at the end):")
            print("  /healthz        idle \(figures(idleHealth))  |  rendering \(figures(busyHealth))")
            print("  1 MB cache hit  idle \(figures(idleHit))  |  rendering \(figures(busyHit))")
            print("  small cache hit idle \(figures(idleSmall))  |  rendering \(figures(busySmall))")
            print("one client alone (1 connection):")
            print("  /healthz        idle \(figures(idleHealth1))  |  rendering \(figures(busyHealth1))")
            print("  1 MB cache hit  idle \(figures(idleHit1))  |  rendering \(figures(busyHit1))")
            print("  goal: p99 ≤ 20 ms while rendering — at 4 connections /healthz \(busyHealth.p99Milliseconds <= 20 ? "met" : "NOT met"), cache hit \(busyHit.p99Milliseconds <= 20 ? "met" : "NOT met")"
                + "; one client: /healthz \(busyHealth1.p99Milliseconds <= 20 ? "met" : "NOT met"), cache hit \(busyHit1.p99Milliseconds <= 20 ? "met" : "NOT met")"
                + " (renders on \(ComputeThreads.shared.threadCount) compute thread(s) of \(ProcessInfo.processInfo.activeProcessorCount) cores)")
        }

        static func freePort() -> Int { Int.random(in: 20000...29999) }


        /// Fetches `url` into `file`; (seconds, bytes), failing on any status but 200.
        static func curl(_ url: String, to file: URL, header: String? = nil) throws -> (seconds: Double, bytes: Int) {
            let out = try ExternalTool.run("curl", ["-s", "-o", file.path, "-w", "%{http_code} %{time_total} %{size_download}"] + (header.map { ["-H", $0] } ?? []) + [url])
            let parts = out.split(separator: " ")
            guard parts.count == 3, parts[0] == "200", let seconds = Double(parts[1]), let bytes = Int(parts[2]) else {
                throw ValidationError("GET \(url) failed: \(out)")
            }
            return (seconds, bytes)
        }

        static func waitUntilReady(_ url: String) throws {
            for _ in 0..<300 {
                if (try? ExternalTool.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", url])) == "200" { return }
                usleep(100_000)
            }
            throw ValidationError("\(url) did not become ready")
        }

        static func startNginx(port: Int, root: URL, work: URL) throws -> Foundation.Process {
            let conf = work.appendingPathComponent("nginx.conf")
            try """
                daemon off;
                worker_processes auto;
                \(getuid() == 0 ? "user root;" : "")
                pid \(work.path)/nginx.pid;
                error_log \(work.path)/nginx-error.log error;
                events { worker_connections 1024; }
                http {
                    access_log off;
                    sendfile on;
                    tcp_nopush on;
                    keepalive_requests 1000000;
                    client_body_temp_path \(work.path)/nginx-body;
                    proxy_temp_path \(work.path)/nginx-proxy;
                    fastcgi_temp_path \(work.path)/nginx-fastcgi;
                    uwsgi_temp_path \(work.path)/nginx-uwsgi;
                    scgi_temp_path \(work.path)/nginx-scgi;
                    types { image/png png; }
                    server { listen 127.0.0.1:\(port); root \(root.path); }
                }
                """.write(to: conf, atomically: true, encoding: .utf8)
            let process = Foundation.Process()
            process.executableURL = URL(fileURLWithPath: ExternalTool.path("nginx")!)
            process.arguments = ["-p", work.path, "-c", conf.path]
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }

        struct WrkResult { var requestsPerSecond: Double; var p50Milliseconds = Double.nan; var p99Milliseconds: Double }

        static func wrk(_ url: String, seconds: Int, connections: Int, header: String? = nil) throws -> WrkResult {
            let out = try ExternalTool.run("wrk", ["-t\(min(2, connections))", "-c\(connections)", "-d\(seconds)s", "--latency"] + (header.map { ["-H", $0] } ?? []) + [url])
            var result = WrkResult(requestsPerSecond: 0, p99Milliseconds: .nan)
            for line in out.split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                if fields.first == "Requests/sec:", fields.count == 2 { result.requestsPerSecond = Double(fields[1]) ?? 0 }
                if fields.first == "99%", fields.count == 2 { result.p99Milliseconds = Self.milliseconds(String(fields[1])) }
                if fields.first == "50%", fields.count == 2 { result.p50Milliseconds = Self.milliseconds(String(fields[1])) }
            }
            guard result.requestsPerSecond > 0 else { throw ValidationError("wrk gave no figure for \(url):\n\(out)") }
            if out.contains("Non-2xx") { throw ValidationError("wrk saw errors for \(url):\n\(out)") }
            return result
        }

        /// "850.00us", "2.31ms", "1.02s" in milliseconds.
        static func milliseconds(_ text: String) -> Double {
            for (suffix, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(suffix) {
                return (Double(text.dropLast(suffix.count)) ?? .nan) * factor
            }
            return .nan
        }
    }
}
