// multipart/form-data uploads: fields and files.
export default {
  async fetch(request) {
    const form = await request.formData();
    const out = [];
    for (const [name, value] of form) {
      if (typeof value === 'string') out.push({ name, value });
      else out.push({ name, file: value.name, type: value.type, size: value.size, text: await value.text(), isFile: value instanceof File, isBlob: value instanceof Blob });
    }
    return Response.json(out);
  },
};
