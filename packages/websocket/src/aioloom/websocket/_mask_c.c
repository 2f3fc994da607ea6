/*
 * aioloom.websocket._mask_c: the optional compiled WebSocket payload mask.
 *
 * RFC 6455 section 5.3: octet i of the transformed data is octet i of the original data XOR
 * octet (i MOD 4) of the 4-byte masking key. The operation is its own inverse, so the same
 * function masks (client) and unmasks (server).
 *
 * This module is an accelerator for aioloom.websocket._mask.websocket_mask_python and keeps
 * its contract exactly: websocket_mask(mask, data, /) -> bytes, where both arguments are
 * bytes-like objects (anything exporting a buffer, measured in bytes); ValueError when the key is not
 * 4 bytes long, TypeError when an argument is not a bytes-like object. The same tests run
 * against both implementations byte for byte (packages/websocket/tests/test_mask.py).
 *
 * The payload is processed 8 bytes at a time against a 64-bit key holding the 4-byte key
 * twice, with memcpy for every load and store so that no unaligned access is ever made (the
 * compiler turns these into plain moves where the target allows them); the last 0-7 bytes are
 * done one at a time. The GIL is held throughout: 64 KiB takes a few microseconds.
 *
 * Built by packages/websocket/hatch_build.py with the interpreter's own compiler settings;
 * the package works without it (AIOLOOM_NO_EXTENSIONS=1 also turns it off at run time).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

/* RFC 6455 section 5.2: "Masking-key: 0 or 4 bytes". */
#define MASK_SIZE 4

/* XOR `size` bytes of `in` with the repeated `key` into `out`. */
static void
apply_mask(const unsigned char key[MASK_SIZE], const unsigned char *in, unsigned char *out,
           Py_ssize_t size)
{
    unsigned char key_bytes[8];
    uint64_t key64;
    uint64_t word;
    Py_ssize_t i = 0;

    /* The key twice: byte j of key64 in memory is key[j % 4] whatever the byte order. */
    memcpy(key_bytes, key, MASK_SIZE);
    memcpy(key_bytes + MASK_SIZE, key, MASK_SIZE);
    memcpy(&key64, key_bytes, sizeof key64);

    for (; size - i >= (Py_ssize_t)sizeof word; i += (Py_ssize_t)sizeof word) {
        memcpy(&word, in + i, sizeof word);
        word ^= key64;
        memcpy(out + i, &word, sizeof word);
    }
    /* i is a multiple of 8 here, hence of 4: the tail restarts at key[0]. */
    for (; i < size; i++) {
        out[i] = in[i] ^ key[i & (MASK_SIZE - 1)];
    }
}

/* Every bytes-like object is accepted, contiguous or not (a strided memoryview is copied in
 * C order, as bytes(view) would), and whatever its item size: lengths are in bytes. */
#define VIEW_FLAGS PyBUF_STRIDED_RO

/* Copy the masking key out of `obj`; return -1 with an exception set on failure. */
static int
read_key(PyObject *obj, unsigned char key[MASK_SIZE])
{
    Py_buffer view;
    int status;

    if (PyObject_GetBuffer(obj, &view, VIEW_FLAGS) < 0) {
        return -1;
    }
    if (view.len != MASK_SIZE) {
        PyErr_Format(PyExc_ValueError, "a WebSocket masking key is 4 bytes, got %zd",
                     view.len);
        PyBuffer_Release(&view);
        return -1;
    }
    status = PyBuffer_ToContiguous(key, &view, MASK_SIZE, 'C');
    PyBuffer_Release(&view);
    return status;
}

/* A new bytes object holding the masked contents of `view`, or NULL with an exception set. */
static PyObject *
mask_view(const unsigned char key[MASK_SIZE], Py_buffer *view)
{
    PyObject *result = PyBytes_FromStringAndSize(NULL, view->len);
    unsigned char *out;

    if (result == NULL) {
        return NULL;
    }
    out = (unsigned char *)PyBytes_AS_STRING(result);
    if (PyBuffer_IsContiguous(view, 'C')) {
        apply_mask(key, (const unsigned char *)view->buf, out, view->len);
    }
    else if (PyBuffer_ToContiguous(out, view, view->len, 'C') < 0) {
        Py_DECREF(result);
        return NULL;
    }
    else {
        apply_mask(key, out, out, view->len);  /* in place: each word is read, then written */
    }
    return result;
}

PyDoc_STRVAR(websocket_mask_doc,
"websocket_mask($module, mask, data, /)\n"
"--\n"
"\n"
"Mask or unmask data with the 4-byte mask (RFC 6455 section 5.3).\n"
"\n"
"Args:\n"
"    mask: the masking key from the frame header, a bytes-like object of length 4.\n"
"    data: the payload, a bytes-like object.\n"
"\n"
"Returns:\n"
"    A new bytes object holding data[i] ^ mask[i % 4].\n"
"\n"
"Raises:\n"
"    ValueError: mask is not 4 bytes long.\n"
"    TypeError: mask or data is not a bytes-like object.\n");

static PyObject *
websocket_mask(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    unsigned char key[MASK_SIZE];
    Py_buffer data;
    PyObject *result;

    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "websocket_mask() takes exactly 2 arguments (%zd given)",
                     nargs);
        return NULL;
    }
    if (read_key(args[0], key) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &data, VIEW_FLAGS) < 0) {
        return NULL;
    }
    result = mask_view(key, &data);
    PyBuffer_Release(&data);
    return result;
}

static PyMethodDef mask_methods[] = {
    {"websocket_mask", (PyCFunction)(void (*)(void))websocket_mask, METH_FASTCALL,
     websocket_mask_doc},
    {NULL, NULL, 0, NULL},
};

/* The module keeps no state, so it is safe in subinterpreters and without the GIL. */
static PyModuleDef_Slot mask_slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

PyDoc_STRVAR(module_doc,
"Compiled WebSocket payload masking (RFC 6455 section 5.3), the accelerator behind\n"
"aioloom.websocket._mask.websocket_mask.");

static struct PyModuleDef mask_module = {
    PyModuleDef_HEAD_INIT,
    "aioloom.websocket._mask_c",
    module_doc,
    0,
    mask_methods,
    mask_slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__mask_c(void)
{
    return PyModuleDef_Init(&mask_module);
}
