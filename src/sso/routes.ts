import type { FastifyInstance } from "fastify";
import type { AppContext } from "../server/context.js";

export function registerSsoRoutes(_app: FastifyInstance, _ctx: AppContext): void {}
