import Crypto
import Foundation
import Hummingbird
import ParleyCore

/// The web inbox's files (`Web/`), held in memory: a few dozen small files. Every asset is
/// served under `/assets/<version>/`, where the version is a hash of all of them, so browsers
/// may cache them for a year and still never run a stale mix after an upgrade.
struct WebAssets: Sendable {
    struct File: Sendable {
        let body: ByteBuffer
        let contentType: String
    }

    let version: String
    /// By path relative to `Web/`, e.g. `inbox/list.js`.
    let files: [String: File]
    /// `index.html` with `{{assets}}` replaced by this version's asset prefix.
    let index: ByteBuffer

    var prefix: String { "/assets/\(version)" }

    static func load(directory: URL) throws -> WebAssets {
        let root = directory.standardizedFileURL.resolvingSymlinksInPath()
        var contents: [(String, Data)] = []
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let path = String(url.standardizedFileURL.resolvingSymlinksInPath().path.dropFirst(root.path.count)).trimmingCharacters(in: ["/"])
            guard !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { continue }
            contents.append((path, try Data(contentsOf: url)))
        }
        contents.sort { $0.0 < $1.0 }
        var hasher = SHA256()
        for (path, data) in contents {
            hasher.update(data: Data(path.utf8))
            hasher.update(data: data)
        }
        let version = hasher.finalize().prefix(6).hexEncoded
        var files: [String: File] = [:]
        for (path, data) in contents {
            files[path] = File(body: ByteBuffer(bytes: data), contentType: contentType(of: path))
        }
        let template = contents.first { $0.0 == "index.html" }.map { String(decoding: $0.1, as: UTF8.self) }
            ?? "<!doctype html><title>Parley</title><p>The web inbox files are missing from this build.</p>"
        let index = template.replacingOccurrences(of: "{{assets}}", with: "/assets/\(version)")
        return WebAssets(version: version, files: files, index: ByteBuffer(string: index))
    }

    static func contentType(of path: String) -> String {
        switch path.split(separator: ".").last.map({ $0.lowercased() }) ?? "" {
        case "html": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "json", "webmanifest": return "application/json; charset=utf-8"
        case "woff2": return "font/woff2"
        case "txt": return "text/plain; charset=utf-8"
        default: return "application/octet-stream"
        }
    }
}

/// Where the web files come from: the copy built into the server, or — for working on them —
/// a directory read again on every request (`PARLEY_WEB_DIR`), so an edit needs no rebuild.
enum WebAssetSource: Sendable {
    case fixed(WebAssets)
    case live(URL)

    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WebAssetSource {
        if let directory = environment["PARLEY_WEB_DIR"], !directory.isEmpty {
            return .live(URL(fileURLWithPath: directory, isDirectory: true))
        }
        return .fixed(try WebAssets.load(directory: bundledDirectory))
    }

    static var bundledDirectory: URL {
        Bundle.module.resourceURL?.appendingPathComponent("Web", isDirectory: true)
            ?? Bundle.module.bundleURL.appendingPathComponent("Web", isDirectory: true)
    }

    func current() throws -> WebAssets {
        switch self {
        case .fixed(let assets): return assets
        case .live(let directory): return try WebAssets.load(directory: directory)
        }
    }
}
