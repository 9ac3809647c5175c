import Foundation
import ParleyCore
import ParleyStore

/// Carries out one step of a run against the live services.
struct WorkflowStepExecutor {
    let services: Services
    let workflow: StoredWorkflow
    var run: WorkflowRun

    var workspaceId: Int64 { run.workspaceId }
    var contactId: Int64 { run.contactId ?? 0 }
    var actions: WorkflowActions { WorkflowActions(database: services.database) }
    var actor: WorkflowActor { WorkflowActor(workflowId: workflow.id, depth: run.depth) }

    /// The outcome, a short description of the step's input for the log, and the run's context
    /// as the step left it.
    mutating func execute(_ step: WorkflowStep) async -> (StepOutcome, String?, WorkflowRunContext) {
        do {
            let (outcome, input) = try await perform(step)
            return (outcome, input, run.context)
        } catch {
            return (.fail(describe(error)), nil, run.context)
        }
    }

    private mutating func perform(_ step: WorkflowStep) async throws -> (StepOutcome, String?) {
        let now = services.clock.now()
        switch step.type {
        case .branch:
            let facts = try await facts(now: now)
            let matched = WorkflowConditions.matches(step, facts: facts)
            return (.next(target: matched ? step.then : step.else, result: WorkflowStepResult(outcome: matched ? "true" : "false"), detail: nil), nil)
        case .assign:
            return try await assign(step)
        case .unassign:
            let changed = try await actions.unassign(contactId: contactId, workspaceId: workspaceId, at: now)
            return (.next(target: nil, result: WorkflowStepResult(outcome: "succeeded"), detail: changed ? nil : "it had no assignee"), nil)
        case .sendMessage:
            return try await send(step)
        case .askQuestion:
            return try await ask(step)
        case .addTag, .removeTag:
            let tag = step.tag?.trimmingCharacters(in: .whitespaces) ?? ""
            guard let contact = try await services.contacts.find(id: contactId, workspaceId: workspaceId) else { return (.fail("the contact no longer exists"), tag) }
            var tags = contact.tags.filter { $0.lowercased() != tag.lowercased() }
            if step.type == .addTag { tags.append(tag) }
            let changed = try await actions.updateContact(id: contactId, workspaceId: workspaceId, fields: ContactFields(tags: tags), actor: actor, at: now)
            return (.next(target: nil, result: WorkflowStepResult(outcome: "succeeded"), detail: changed ? nil : "unchanged"), tag)
        case .updateField:
            let value = WorkflowVariables.render(step.value ?? "", values: try await variables())
            try await setField(step.field ?? "", to: value)
            return (.next(target: nil, result: WorkflowStepResult(outcome: "succeeded", values: ["value": value]), detail: nil), "\(step.field ?? "") = \(value)")
        case .httpRequest:
            return try await WorkflowHTTPStep(services: services).perform(step, variables: try await variables()) { field, value in
                try await setField(field, to: value)
            }
        case .wait:
            if run.context.pending == step.id {
                run.context.pending = nil
                return (.next(target: nil, result: WorkflowStepResult(outcome: "succeeded"), detail: nil), nil)
            }
            run.context.pending = step.id
            let seconds = step.seconds ?? 1
            return (.wait(kind: "timer", due: now.addingTimeInterval(seconds), detail: "until \(ISO8601DateFormatter().string(from: now.addingTimeInterval(seconds)))"),
                    "\(seconds) s")
        case .close:
            do {
                _ = try await services.conversations.close(contactId: contactId, workspaceId: workspaceId, actorUserId: nil, category: nil,
                                                           summary: nil, logic: .keep, at: now)
                return (.next(target: nil, result: WorkflowStepResult(outcome: "succeeded"), detail: nil), nil)
            } catch ConversationError.noOpenConversation {
                return (.next(target: nil, result: WorkflowStepResult(outcome: "succeeded"), detail: "it was already closed"), nil)
            }
        case .jump:
            return (.next(target: step.target, result: WorkflowStepResult(outcome: "succeeded"), detail: nil), step.target)
        }
    }

    // MARK: Assign

    private func assign(_ step: WorkflowStep) async throws -> (StepOutcome, String?) {
        let wanted = step.mode == .user ? [step.userId ?? 0] : (step.userIds ?? [])
        var candidates = try await actions.activeUsers(wanted, workspaceId: workspaceId)
        if step.onlineOnly == true {
            let online = Set(services.eventHub.presence.online(workspaceId: workspaceId).map(\.id))
            candidates = candidates.filter(online.contains)
        }
        let input = "\(step.mode?.rawValue ?? "?") among \(wanted.map(String.init).joined(separator: ","))"
        guard !candidates.isEmpty else { return (.fail(step.onlineOnly == true ? "no agent of the set is online" : "no agent of the set is active"), input) }
        let chosen: Int64
        switch step.mode ?? .user {
        case .user:
            chosen = candidates[0]
        case .roundRobin:
            let position = try await WorkflowRunRepository(database: services.database).rotate(workflowId: workflow.id, stepId: step.id)
            chosen = candidates[Int((position - 1) % Int64(candidates.count))]
        case .leastOpen:
            let counts = try await actions.openCounts(userIds: candidates, workspaceId: workspaceId)
            // Ties go to the first of the list, so the order given is the order of preference.
            chosen = candidates.min { (counts[$0] ?? 0) < (counts[$1] ?? 0) } ?? candidates[0]
        }
        do {
            _ = try await services.conversations.assign(contactId: contactId, workspaceId: workspaceId, actor: nil, assigneeId: chosen, at: services.clock.now())
        } catch ConversationError.noOpenConversation {
            return (.fail("the contact has no open conversation"), input)
        }
        return (.next(target: nil, result: WorkflowStepResult(outcome: "succeeded", values: ["userId": String(chosen)]), detail: "assigned to user \(chosen)"), input)
    }

    // MARK: Contact data

    /// Writes a standard field or a custom one (typed by its definition: numbers and checkboxes
    /// from their text; empty text clears it).
    func setField(_ field: String, to value: String) async throws {
        var fields = ContactFields()
        let cleared = value.isEmpty
        switch field {
        case "firstName": fields.firstName = value
        case "lastName": fields.lastName = value
        case "email": fields.email = .some(cleared ? nil : value)
        case "phone": fields.phone = .some(cleared ? nil : value)
        case "language": fields.language = .some(cleared ? nil : value)
        case "country": fields.country = .some(cleared ? nil : value)
        default:
            let definition = try await services.customFields.list(workspaceId: workspaceId).first { $0.key == field }
            let typed: CustomFieldValue?
            switch definition?.type {
            case _ where cleared: typed = nil
            case .number?: typed = Double(value).map(CustomFieldValue.number) ?? .text(value)
            case .checkbox?: typed = .checkbox(["true", "yes", "1"].contains(value.lowercased()))
            default: typed = Double(value).map(CustomFieldValue.number) ?? .text(String(value.prefix(CustomFieldValidation.maxTextLength)))
            }
            fields.customFields = [field: typed]
        }
        try await actions.updateContact(id: contactId, workspaceId: workspaceId, fields: fields, actor: actor, at: services.clock.now())
    }

    func facts(now: Date) async throws -> WorkflowFacts {
        let contact = try await services.contacts.find(id: contactId, workspaceId: workspaceId)
        let channel = try await conversationChannel()
        return WorkflowFacts(
            tags: Set(contact?.tags ?? []), fields: contact.map(Self.fieldTexts) ?? [:], channel: channel?.kind,
            returning: try await actions.isReturning(contactId: contactId, conversationId: run.conversationId),
            now: now, steps: run.context.steps)
    }

    /// The channel of the run's conversation (or the contact's latest one).
    func conversationChannel() async throws -> (channelId: Int64, kind: ChannelKind)? {
        var conversationId = run.conversationId
        if conversationId == nil {
            conversationId = try await services.conversations.latest(contactId: contactId, workspaceId: workspaceId)?.id
        }
        guard let conversationId else { return nil }
        return try await actions.conversationChannel(id: conversationId)
    }

    static func fieldTexts(_ contact: Contact) -> [String: String] {
        var fields: [String: String] = ["firstName": contact.firstName, "lastName": contact.lastName]
        fields["email"] = contact.email
        fields["phone"] = contact.phone
        fields["language"] = contact.language
        fields["country"] = contact.country
        for (key, value) in contact.customFields {
            switch value {
            case .text(let text), .date(let text), .list(let text): fields[key] = text
            case .number(let number): fields[key] = number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            case .checkbox(let flag): fields[key] = flag ? "true" : "false"
            }
        }
        return fields
    }

    /// The values `{{…}}` placeholders can name.
    func variables() async throws -> [String: String] {
        var values: [String: String] = ["contact.id": String(contactId), "workflow.id": String(workflow.id), "run.id": String(run.id)]
        if let contact = try await services.contacts.find(id: contactId, workspaceId: workspaceId) {
            for (key, value) in Self.fieldTexts(contact) {
                values[WorkflowValidation.standardFields.contains(key) ? "contact.\(key)" : "contact.fields.\(key)"] = value
            }
            values["contact.name"] = [contact.firstName, contact.lastName].filter { !$0.isEmpty }.joined(separator: " ")
            values["contact.tags"] = contact.tags.joined(separator: ",")
        }
        if let conversationId = run.conversationId { values["conversation.id"] = String(conversationId) }
        if let channel = try await conversationChannel() { values["channel"] = channel.kind.rawValue }
        for (id, result) in run.context.steps {
            values["steps.\(id).outcome"] = result.outcome
            for (key, value) in result.values { values["steps.\(id).\(key)"] = value }
        }
        for (key, value) in run.context.trigger { values["trigger.\(key)"] = value }
        return values
    }

    func describe(_ error: any Error) -> String {
        switch error {
        case OutboundError.refused(let refusal): return "the message was refused (\(refusal.code.rawValue)): \(refusal.message)"
        case let refusal as OutboundError: return "the message was refused: \(refusal)"
        case ConversationError.assigneeNotFound: return "the user does not exist or is disabled"
        case ConversationError.contactNotFound, OutboundError.contactNotFound: return "the contact no longer exists"
        default: return "failed: \(loggableDescription(of: error))"
        }
    }
}
