import type { FastifyInstance } from "fastify";
import type { AppContext } from "../server/context.js";

export function registerApiRoutes(_app: FastifyInstance, _ctx: AppContext): void {}
