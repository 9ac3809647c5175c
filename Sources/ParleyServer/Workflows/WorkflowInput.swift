import Foundation
import Hummingbird
import ParleyCore
import ParleyStore

/// Reading and checking workflow definitions sent to the API: every problem is a 400 naming
/// the step and what is wrong, and nothing is stored.
enum WorkflowInput {
    static func body(_ request: Request) async throws -> Data {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: RequestDecoding.maxBodySize)
        } catch {
            throw APIError(.contentTooLarge, code: "body_too_large", message: "request body is larger than \(RequestDecoding.maxBodySize) bytes")
        }
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("request body must be a JSON object") }
        return Data(buffer: buffer)
    }

    /// Decodes and validates a definition.
    static func definition(from data: Data) throws -> WorkflowDefinition {
        if let problem = WorkflowValidation.checkRaw(data) { throw badRequest(problem) }
        let definition: WorkflowDefinition
        do {
            definition = try JSONDecoder.api.decode(WorkflowDefinition.self, from: data)
        } catch let error as DecodingError {
            throw RequestDecoding.describe(error)
        }
        if let problem = WorkflowValidation.problem(in: definition) { throw badRequest(problem) }
        return definition
    }

    static func badRequest(_ problem: WorkflowProblem) -> APIError {
        APIError.badRequest(problem.description, field: problem.field)
    }

    /// The checks that need the server: HTTP targets allowed by its network policy (a URL whose
    /// host is a variable is checked when it runs), and assignees that exist in the workspace.
    static func checkSteps(_ definition: WorkflowDefinition, services: Services, workspaceId: Int64) async throws {
        for (index, step) in definition.steps.enumerated() where step.type == .httpRequest {
            guard let url = step.url, let host = URLComponents(string: url)?.host, !host.contains("{{") else { continue }
            do {
                try await services.networkTargets.check(url: url)
            } catch .unresolvable {
                continue
            } catch {
                throw APIError.badRequest("step '\(step.id)': \(error)", field: "steps[\(index)].url")
            }
        }
        try await checkUsers(definition, services: services, workspaceId: workspaceId)
        // Only defined custom fields are kept on a contact, so a step writing another would do nothing.
        let defined = Set(try await services.customFields.list(workspaceId: workspaceId).map(\.key))
        for (index, step) in definition.steps.enumerated() {
            let written = [step.type == .updateField || step.type == .askQuestion ? step.field : nil].compactMap { $0 }
                + (step.type == .httpRequest ? (step.responseFields ?? [:]).keys.sorted() : [])
            if let missing = written.first(where: { !WorkflowValidation.standardFields.contains($0) && !defined.contains($0) }) {
                throw APIError.badRequest("step '\(step.id)': no custom field '\(missing)' is defined", field: "steps[\(index)].field")
            }
        }
    }

    /// Defines the custom fields a template writes, when the workspace has not yet.
    static func defineTemplateFields(_ definition: WorkflowDefinition, services: Services, workspaceId: Int64) async throws {
        let defined = Set(try await services.customFields.list(workspaceId: workspaceId).map(\.key))
        for step in definition.steps {
            if step.type == .askQuestion, let field = step.field, !defined.contains(field), !WorkflowValidation.standardFields.contains(field) {
                _ = try await services.customFields.create(workspaceId: workspaceId, definition: CustomFieldDefinition(
                    key: field, label: step.answer == "rating" ? "Satisfaction (1–5)" : field, type: step.answer == "rating" ? .number : .text),
                    at: services.clock.now())
            }
            for field in (step.responseFields ?? [:]).keys.sorted() where !defined.contains(field) && !WorkflowValidation.standardFields.contains(field) {
                _ = try await services.customFields.create(workspaceId: workspaceId, definition: CustomFieldDefinition(key: field, label: field, type: .text),
                                                           at: services.clock.now())
            }
        }
    }

    static func checkTarget(_ url: String, services: Services, field: String) async throws {
        guard WorkflowValidation.isHTTPURL(url) else { throw APIError.badRequest("'\(url)' is not an http or https URL", field: field) }
        do {
            try await services.networkTargets.check(url: url)
        } catch .unresolvable {
            return
        } catch {
            throw APIError.badRequest(error.description, field: field)
        }
    }

    static func checkUsers(_ definition: WorkflowDefinition, services: Services, workspaceId: Int64) async throws {
        let actions = WorkflowActions(database: services.database)
        for (index, step) in definition.steps.enumerated() where step.type == .assign {
            let wanted = step.mode == .user ? [step.userId ?? 0] : (step.userIds ?? [])
            let found = try await actions.activeUsers(wanted, workspaceId: workspaceId)
            if let missing = wanted.first(where: { !found.contains($0) }) {
                throw APIError.badRequest("step '\(step.id)': user \(missing) is not an active user of the workspace", field: "steps[\(index)].userIds")
            }
        }
    }

    /// Compares two hashes in time independent of where they differ.
    static func sameHash(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8), b = Array(right.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The top-level text, number and boolean values of an incoming webhook, as `trigger.<key>` variables.
    static func flatten(_ object: [String: Any]) -> [String: String] {
        var values: [String: String] = [:]
        for (key, value) in object.prefix(50) {
            switch value {
            case let text as String: values[key] = String(text.prefix(1000))
            case let number as NSNumber: values[key] = number.stringValue
            default: continue
            }
        }
        return values
    }
}
