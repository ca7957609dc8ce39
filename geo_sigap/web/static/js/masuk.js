/* Sign-in: POST /api/auth/login; the API answers with the session cookie. */
(function () {
  "use strict";
  const S = window.SIGAP;
  const HOME = { team_member: "/lapangan", operator: "/operator" };
  S.$("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = S.$("#login-error"); err.hidden = true;
    try {
      const data = await S.api("POST", "/api/auth/login",
        { username: S.$("#username").value.trim(), password: S.$("#password").value },
        { noRedirect: true });
      const role = data && data.user && data.user.role;
      location.href = S.config.next || HOME[role] || "/peta";
    } catch (e) {
      err.textContent = e.status === 401 || e.status === 422 ? S.t("login.failed") : e.message;
      err.hidden = false;
    }
  });
})();
