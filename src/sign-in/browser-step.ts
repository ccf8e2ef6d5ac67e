import type { FastifyReply } from "fastify";
import { autoPostPage } from "../web/auto-post.js";
import type { BrowserStep } from "./adapter.js";

/** Sends the browser on to the IdP: a redirect, or a form that posts itself (SAML HTTP-POST). */
export function sendBrowserStep(
  reply: FastifyReply,
  step: BrowserStep,
  status: 302 | 303 = 302,
): FastifyReply {
  reply.header("cache-control", "no-store");
  if (step.kind === "redirect") return reply.redirect(step.url, status);
  return reply.type("text/html; charset=utf-8").send(autoPostPage(step.url, step.fields));
}
