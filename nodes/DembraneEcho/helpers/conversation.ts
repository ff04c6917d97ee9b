import type { IDataObject } from 'n8n-workflow';

/** Tag texts of a listing row: tags come as `[{id, conversation_id, project_tag_id: {id, text}}]`. */
export function tagTexts(conversation: IDataObject): string[] {
	const tags = Array.isArray(conversation.tags) ? conversation.tags : [];
	return tags
		.map((tag) => {
			if (typeof tag === 'string') return tag;
			const projectTag = (tag as IDataObject)?.project_tag_id;
			if (projectTag && typeof projectTag === 'object') return (projectTag as IDataObject).text;
			return (tag as IDataObject)?.text;
		})
		.filter((text): text is string => typeof text === 'string' && text !== '');
}

export function emailLocalPart(email: unknown): string | null {
	if (typeof email !== 'string' || email === '') return null;
	return email.split(',')[0].trim().split('@')[0] || null;
}

/**
 * Where the project opens in the dembrane dashboard, when the workspace is known. No language prefix: the
 * dashboard then opens in the reader's own saved language, where a prefix (as in its webhook links) would
 * override it.
 */
export function projectDashboardUrl(dashboardBase: string, workspaceId: unknown, projectId: unknown): string | null {
	if (!dashboardBase || !workspaceId || !projectId) return null;
	const base = dashboardBase.replace(/\/+$/, '');
	return `${base}/w/${encodeURIComponent(String(workspaceId))}/projects/${encodeURIComponent(String(projectId))}`;
}

/** Where the conversation opens in the dembrane dashboard, when the workspace is known. */
export function dashboardUrl(
	dashboardBase: string,
	workspaceId: string | undefined,
	projectId: unknown,
	conversationId: unknown,
): string | null {
	const project = projectDashboardUrl(dashboardBase, workspaceId, projectId);
	if (!project || !conversationId) return null;
	return `${project}/conversations/${encodeURIComponent(String(conversationId))}/overview`;
}

/** One flat row per conversation, for Google Sheets and CSV. */
export function simplifyConversation(conversation: IDataObject, url: string | null): IDataObject {
	const duration = typeof conversation.duration === 'number' ? conversation.duration : null;
	return {
		id: conversation.id,
		project_id: conversation.project_id ?? null,
		created_at: conversation.created_at ?? null,
		updated_at: conversation.updated_at ?? null,
		recording_started_at: conversation.recording_started_at ?? null,
		participant_name: conversation.participant_name ?? null,
		participant_email: conversation.participant_email ?? null,
		title: conversation.title ?? null,
		summary: conversation.summary ?? null,
		source: conversation.source ?? null,
		duration_minutes: duration === null ? null : Math.round((duration / 60) * 100) / 100,
		is_finished: conversation.is_finished ?? null,
		tags: tagTexts(conversation).join(', '),
		dashboard_url: url,
	};
}

/** A report's title: the first `# ` heading of its Markdown. */
export function reportTitle(content: unknown): string | null {
	if (typeof content !== 'string') return null;
	// As dembrane's own _extract_report_title: re.search(r"^#\s+(.+)$", content, re.MULTILINE), stripped.
	const heading = /^#\s+(.+)$/m.exec(content);
	return heading ? heading[1].trim() : null;
}

/** The trigger's item for one webhook event: convenient top-level fields, and the whole payload. */
export function eventItem(payload: IDataObject): IDataObject {
	const conversation = (payload.conversation ?? {}) as IDataObject;
	const report = (payload.report ?? {}) as IDataObject;
	const project = (payload.project ?? {}) as IDataObject;
	const subjectId = String(conversation.id ?? report.id ?? '');
	return {
		event: payload.event,
		// dembrane retries a delivery with the identical payload: this identifies the delivery.
		deliveryId: `${String(payload.event)}|${subjectId}|${String(payload.timestamp ?? '')}`,
		conversationId: conversation.id ?? null,
		reportId: report.id ?? null,
		projectId: project.id ?? null,
		transcript: conversation.transcript ?? null,
		summary: conversation.summary ?? null,
		dashboardUrl: payload.dashboardUrl ?? null,
		payload,
	};
}
