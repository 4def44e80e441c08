// Users (admin): invite (the token shown once), role and status changes.
import { h, clear, field, select, time, code, moreButton, guarded, secretBox, toast } from "../ui.mjs";

const ROLES = ["admin", "operator", "viewer"];

export default {
  id: "users",
  title: "Users",
  roles: ["admin"],
  render(ctx, root) {
    const errSlot = h("div");
    const body = h("tbody");
    const more = h("div");
    const fRole = select("role", ["", ...ROLES], "");
    const fStatus = select("status", ["", "active", "invited", "disabled"], "");
    const filters = h("form", { class: "filters", id: "user-filters" }, field("Role", fRole), field("Status", fStatus),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply")));
    const email = h("input", { name: "email", type: "email", required: true, autocomplete: "off" });
    const role = select("role", ROLES, "viewer");
    const inviteErr = h("div");
    const invited = h("div", { id: "invited" });
    const submit = h("button", { type: "submit" }, "Invite");
    const invite = h("form", { class: "card", id: "user-invite" },
      h("h2", {}, "Invite a user"), field("Email", email), field("Role", role), submit, inviteErr, invited);
    root.append(h("h1", {}, "Users"), filters, errSlot,
      h("div", { class: "scroll" }, h("table", { id: "users-table" },
        h("thead", {}, h("tr", {}, ["Email", "Role", "Status", "Last sync", "Created", "Id", ""].map((x) => h("th", { scope: "col" }, x)))),
        body)), more, invite);

    const rows = (items) => {
      for (const u of items) {
        const rowErr = h("div");
        const roleSel = select("role", ROLES, u.role);
        roleSel.setAttribute("aria-label", `Role of ${u.email}`);
        const setRole = h("button", { type: "button" }, "Set role");
        setRole.addEventListener("click", () => patch(u, { role: roleSel.value }, rowErr, setRole));
        const toggle = u.status === "active" ? "disabled" : u.status === "disabled" ? "active" : null;
        const statusBtn = toggle ? h("button", { type: "button" }, toggle === "disabled" ? "Disable" : "Enable") : null;
        if (statusBtn) statusBtn.addEventListener("click", () => patch(u, { status: toggle }, rowErr, statusBtn));
        body.append(h("tr", { "data-id": u.id, "data-email": u.email },
          h("td", {}, u.email), h("td", {}, h("span", { class: "row" }, roleSel, setRole)),
          h("td", {}, h("span", { class: `badge us-${u.status}` }, u.status)),
          h("td", {}, time(u.last_sync_at)), h("td", {}, time(u.created_at)), h("td", {}, code(u.id)),
          h("td", {}, statusBtn, rowErr)));
      }
      if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No users.")));
    };
    const load = () => {
      clear(body);
      clear(more);
      const pager = ctx.client.pager("/v1/users", { query: { role: fRole.value, status: fStatus.value }, limit: 50 });
      return guarded(errSlot, async () => {
        rows((await pager.next()).data);
        more.append(moreButton(pager, rows, errSlot));
      });
    };
    const patch = (u, change, slot, btn) => guarded(slot, async () => {
      const x = await ctx.client.request("PATCH", `/v1/users/${encodeURIComponent(u.id)}`, { body: change });
      toast(`${x.email}: ${x.role}, ${x.status}.`);
      await load();
    }, btn);
    filters.addEventListener("submit", (ev) => {
      ev.preventDefault();
      load();
    });
    invite.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clear(invited);
      await guarded(inviteErr, async () => {
        const r = await ctx.client.request("POST", "/v1/users/invite", { body: { email: email.value.trim(), role: role.value } });
        invited.append(h("p", {}, "Invited ", r.user.email, " as ", r.user.role, "; the invite expires ", time(r.invite_expires_at), "."),
          secretBox("Invite token", r.invite_token, "shown once, here only: hand it to the invitee (POST /v1/users/accept)."));
        email.value = "";
        await load();
      }, submit);
    });
    load();
  },
};
