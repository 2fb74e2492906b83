interface ExportedHandler<E> { fetch?(request: Request, env: E): Promise<Response> | Response }
