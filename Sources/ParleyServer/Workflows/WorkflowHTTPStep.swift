import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ParleyChannels
import ParleyCore

/// The HTTP request step: variables filled in (JSON-escaped inside the body), the target
/// checked against the server's network policy (no private or loopback addresses unless the
/// server allows them), a timeout, and values of the JSON response copied into contact fields.
struct WorkflowHTTPStep {
    let services: Services

    func perform(_ step: WorkflowStep, variables: [String: String],
                 setField: (String, String) async throws -> Void) async throws -> (StepOutcome, String?) {
        let method = (step.method ?? "POST").uppercased()
        // Values in a URL are percent-encoded, in the body JSON-escaped, in headers kept on one line.
        let url = WorkflowVariables.render(step.url ?? "", values: variables) {
            $0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))) ?? ""
        }
        let body = step.body.map { WorkflowVariables.render($0, values: variables, escape: WorkflowVariables.jsonEscaped) }
        var headers = (step.headers ?? [:]).sorted { $0.key < $1.key }.map { name, value in
            (name, WorkflowVariables.render(value, values: variables) { $0.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: " ") })
        }
        if body != nil, !headers.contains(where: { $0.0.lowercased() == "content-type" }) { headers.append(("Content-Type", "application/json")) }
        headers.append(("User-Agent", "Parley-Workflow"))
        let input = "\(method) \(url)"
        if let body, (try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed])) == nil {
            return (.fail("the body is not JSON once its variables are filled in"), input)
        }
        let http = ProviderHTTP(client: services.channelRuntime.http.client, timeout: .milliseconds(Int64((step.seconds ?? 10) * 1000)),
                                targets: services.networkTargets)
        let response: ProviderHTTP.Response
        do {
            response = try await http.send(HTTPMethod(rawValue: method), url, headers: headers, body: body.map { Array($0.utf8) })
        } catch {
            return (.fail("the request failed: \(error)"), input)
        }
        guard (200..<300).contains(response.status) else { return (.fail("the server answered \(response.status)"), input) }
        var values = ["status": String(response.status)]
        let json = JSONValue(parsing: String(decoding: response.body, as: UTF8.self))
        for (field, path) in (step.responseFields ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let value = Self.value(at: path, in: json) else { continue }
            values[path] = value
            try await setField(field, value)
        }
        return (.next(target: nil, result: WorkflowStepResult(outcome: "succeeded", values: values), detail: "answered \(response.status)"), input)
    }

    /// The value at a dotted path (`customer.tier`, `items.0.id`) as text; nil when absent.
    static func value(at path: String, in json: JSONValue) -> String? {
        var node = json
        for key in path.split(separator: ".").map(String.init) {
            switch node {
            case .object: guard let next = node[key] else { return nil }; node = next
            case .array(let items): guard let index = Int(key), items.indices.contains(index) else { return nil }; node = items[index]
            default: return nil
            }
        }
        switch node {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        default: return nil
        }
    }
}
