/* reviewflow.content._yamlscan: the data of a plain front-matter, read line by line on the
   text's buffer.

   Every approved text is read on a cold `check` and on `verify --no-cache`, and nearly every
   front-matter is plain: `content/plainyaml.py`'s `read_plain` reads it without a YAML parser.
   Without its positions (the call every plain article makes; positions are read later, and
   only when a finding needs one) its cost was a regular expression's findall over every line
   (a tuple of eight strings a line), then a loop in Python over the lines. Here the same
   reading is done on the buffer (one loop for the characters YAML would not read as they are,
   then one forward pass over the lines): a string is made for each key and each text value,
   nothing else.

   plain_data(source) is the data `read_plain(source, line_offset, positions=False)` gives, or
   None where that gives None: the same dicts (keys in the same order), lists, strings, ints,
   bools and Nones. It reads each line as `read_plain`'s general path does (`_KEY`, `scalar`,
   `flow_sequence`, `block_scalar`, `sequence`): its short cut for the common `key: value` line
   gives the same answers by construction, and tests/test_yamlscan.py holds the two equal on
   generated front-matter. The Python reference is `plainyaml._python_plain_data`, which runs
   instead where this module is not built or is older than this file (reviewflow/compiled.py). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* The ASCII classes of plainyaml.py's patterns, one bit each. Filled once, when the module is
   loaded. */
enum {
    KEY_FIRST = 1,  /* _KEY's first character: [A-Za-z_] */
    KEY_REST = 2,   /* _KEY's others: [A-Za-z0-9_-] */
    WORD_FIRST = 4, /* _WORD's and _FLOW_WORD's first: [A-Za-z] */
    WORD_REST = 8,  /* _WORD's others: [A-Za-z0-9 ,'()/-] */
    FLOW_REST = 16, /* _FLOW_WORD's others: [A-Za-z0-9 '()/-] */
};
static unsigned char classes[128];

static inline int
is(Py_UCS4 character, unsigned char class)
{
    return character < 128 && (classes[character] & class);
}

/* Whether YAML reads CHARACTER as itself, on the line it is on: `_UNUSUAL`'s complement (a line
   break, the printable ASCII, and the Unicode YAML allows that is no line break: not C1, not a
   surrogate, not U+2028/U+2029, not U+FEFF, U+FFFE or U+FFFF). */
static inline int
usual(Py_UCS4 character)
{
    if (character < 0x80) {
        return character == '\n' || (character >= 0x20 && character < 0x7F);
    }
    if (character < 0xA0) {
        return 0;
    }
    if (character < 0xD800) {
        return character != 0x2028 && character != 0x2029;
    }
    if (character < 0xE000) {
        return 0;
    }
    if (character < 0xFFFE) {
        return character != 0xFEFF;
    }
    return character >= 0x10000;
}

/* The source and the line being read: [start, end), the line break excluded. Lines are read
   forward only; `start > length` once the last is read. */
typedef struct {
    PyObject *source;
    const void *data;
    int kind;
    Py_ssize_t length; /* without the final line break */
    int final_break;   /* the source ended with a line break */
    Py_ssize_t start;
    Py_ssize_t end;
} Reader;

static inline Py_UCS4
at(const Reader *reader, Py_ssize_t index)
{
    return PyUnicode_READ(reader->kind, reader->data, index);
}

static void
find_end(Reader *reader)
{
    Py_ssize_t start = reader->start, length = reader->length;
    if (reader->kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *data = reader->data;
        const Py_UCS1 *found = memchr(data + start, '\n', (size_t)(length - start));
        reader->end = found == NULL ? length : found - data;
        return;
    }
    while (start < length && at(reader, start) != '\n') {
        start++;
    }
    reader->end = start;
}

static inline int
at_end(const Reader *reader)
{
    return reader->start > reader->length;
}

static inline void
next_line(Reader *reader)
{
    reader->start = reader->end + 1;
    if (!at_end(reader)) {
        find_end(reader);
    }
}

/* The first position from START on the current line that is not a space (the line's end if
   none is). */
static inline Py_ssize_t
skip_spaces(const Reader *reader, Py_ssize_t start)
{
    while (start < reader->end && at(reader, start) == ' ') {
        start++;
    }
    return start;
}

/* Where the spaces that end [START, END) begin. */
static inline Py_ssize_t
strip_end(const Reader *reader, Py_ssize_t start, Py_ssize_t end)
{
    while (end > start && at(reader, end - 1) == ' ') {
        end--;
    }
    return end;
}

/* `_skippable`: a blank line, or a comment on a line of its own. */
static inline int
skippable(const Reader *reader)
{
    Py_ssize_t first = skip_spaces(reader, reader->start);
    return first == reader->end || at(reader, first) == '#';
}

/* `_KEY.match` at POSITION of the current line, [A-Za-z_][A-Za-z0-9_-]*:(?: +|$): 1 with the
   key's end (its ":") in *COLON and the match's end in *AFTER, or 0. */
static int
match_key(const Reader *reader, Py_ssize_t position, Py_ssize_t *colon, Py_ssize_t *after)
{
    Py_ssize_t end = reader->end;
    if (position >= end || !is(at(reader, position), KEY_FIRST)) {
        return 0;
    }
    position++;
    while (position < end && is(at(reader, position), KEY_REST)) {
        position++;
    }
    if (position == end || at(reader, position) != ':') {
        return 0;
    }
    *colon = position++;
    if (position < end && at(reader, position) != ' ') {
        return 0;
    }
    *after = skip_spaces(reader, position);
    return 1;
}

/* Whether [START, END) is the ASCII text WORD. */
static int
equals(const Reader *reader, Py_ssize_t start, Py_ssize_t end, const char *word)
{
    Py_ssize_t length = (Py_ssize_t)strlen(word);
    if (end - start != length) {
        return 0;
    }
    for (Py_ssize_t index = 0; index < length; index++) {
        if (at(reader, start + index) != (Py_UCS4)(unsigned char)word[index]) {
            return 0;
        }
    }
    return 1;
}

/* The value `_SPECIAL_WORDS` gives [START, END) (a new reference to True, False or None), or
   NULL (no exception set) if it is not one of its words. */
static PyObject *
special_word(const Reader *reader, Py_ssize_t start, Py_ssize_t end)
{
    static const struct {
        const char *words[3];
        PyObject *value;
    } specials[] = {
        {{"true", "True", "TRUE"}, Py_True},
        {{"false", "False", "FALSE"}, Py_False},
        {{"null", "Null", "NULL"}, Py_None},
    };
    for (size_t entry = 0; entry < sizeof(specials) / sizeof(specials[0]); entry++) {
        for (size_t word = 0; word < 3; word++) {
            if (equals(reader, start, end, specials[entry].words[word])) {
                return Py_NewRef(specials[entry].value);
            }
        }
    }
    return NULL;
}

/* Whether [START, END) is a whole match of [A-Za-z][REST]*: `_WORD` or `_FLOW_WORD`. */
static int
is_word(const Reader *reader, Py_ssize_t start, Py_ssize_t end, unsigned char rest)
{
    if (start == end || !is(at(reader, start), WORD_FIRST)) {
        return 0;
    }
    for (Py_ssize_t index = start + 1; index < end; index++) {
        if (!is(at(reader, index), rest)) {
            return 0;
        }
    }
    return 1;
}

/* Whether [START, END) is a whole match of `_INTEGER`, 0|[1-9][0-9]*. */
static int
is_integer(const Reader *reader, Py_ssize_t start, Py_ssize_t end)
{
    if (start == end) {
        return 0;
    }
    if (at(reader, start) == '0') {
        return end - start == 1;
    }
    for (Py_ssize_t index = start; index < end; index++) {
        Py_UCS4 character = at(reader, index);
        if (character < '0' || character > '9') {
            return 0;
        }
    }
    return 1;
}

/* int() of the decimal digits [START, END): computed here when it fits in 18 digits; otherwise
   by int()'s own conversion. Past its limit on digits (sys.get_int_max_str_digits()) the
   front-matter is not plain, as in plainyaml.py: the loader's path reports the number. */
static PyObject *
integer(const Reader *reader, Py_ssize_t start, Py_ssize_t end)
{
    if (end - start <= 18) {
        long long value = 0;
        for (Py_ssize_t index = start; index < end; index++) {
            value = value * 10 + (long long)(at(reader, index) - '0');
        }
        return PyLong_FromLongLong(value);
    }
    PyObject *digits = PyUnicode_Substring(reader->source, start, end);
    if (digits == NULL) {
        return NULL;
    }
    PyObject *value = PyLong_FromUnicodeObject(digits, 10);
    Py_DECREF(digits);
    if (value == NULL && PyErr_ExceptionMatches(PyExc_ValueError)) {
        PyErr_Clear(); /* NULL without an exception: not plain */
    }
    return value;
}

/* Every function below returns a new reference, or NULL: with an exception set if one was
   raised, without one if the front-matter is not plain (`_NotPlain`). */

/* `flow_sequence`: `[a, b]` at [START, END) of the current line, its words. */
static PyObject *
flow_sequence(const Reader *reader, Py_ssize_t start, Py_ssize_t end)
{
    if (at(reader, end - 1) != ']' || end - start < 2) {
        return NULL;
    }
    Py_ssize_t inner_start = start + 1, inner_end = end - 1;
    PyObject *items = PyList_New(0);
    if (items == NULL || strip_end(reader, inner_start, inner_end) == inner_start) {
        return items; /* `[]`, `[ ]`: empty */
    }
    Py_ssize_t part = inner_start;
    while (1) {
        Py_ssize_t part_end = part;
        while (part_end < inner_end && at(reader, part_end) != ',') {
            part_end++;
        }
        Py_ssize_t word = part;
        while (word < part_end && at(reader, word) == ' ') {
            word++;
        }
        Py_ssize_t word_end = strip_end(reader, word, part_end);
        PyObject *special = special_word(reader, word, word_end);
        if (special != NULL || !is_word(reader, word, word_end, FLOW_REST)) {
            Py_XDECREF(special);
            goto fail;
        }
        PyObject *text = PyUnicode_Substring(reader->source, word, word_end);
        if (text == NULL || PyList_Append(items, text) < 0) {
            Py_XDECREF(text);
            goto fail;
        }
        Py_DECREF(text);
        if (part_end == inner_end) {
            return items;
        }
        part = part_end + 1;
    }
fail:
    Py_DECREF(items);
    return NULL;
}

/* `scalar`: the one-line value [START, END) of the current line (its final spaces left out). */
static PyObject *
scalar(const Reader *reader, Py_ssize_t start, Py_ssize_t end)
{
    if (start == end) {
        return NULL; /* `- ` alone: an empty item (null), which the loader places */
    }
    Py_UCS4 first = at(reader, start);
    if (first == '"' || first == '\'') {
        if (end - start < 2 || at(reader, end - 1) != first) {
            return NULL;
        }
        for (Py_ssize_t index = start + 1; index < end - 1; index++) {
            Py_UCS4 character = at(reader, index);
            if (character == first || character == '\\') {
                return NULL;
            }
        }
        return PyUnicode_Substring(reader->source, start + 1, end - 1);
    }
    if (first == '[') {
        return flow_sequence(reader, start, end);
    }
    if (is_integer(reader, start, end)) {
        return integer(reader, start, end);
    }
    if (is_word(reader, start, end, WORD_REST)) {
        PyObject *special = special_word(reader, start, end);
        return special != NULL ? special : PyUnicode_Substring(reader->source, start, end);
    }
    return NULL;
}

/* The block scalar indicators `_BLOCK_INDICATORS` knows: [START, END) is one of them if this
   returns 1, with the text that joins its lines and the text that ends it. */
static int
block_indicator(const Reader *reader, Py_ssize_t start, Py_ssize_t end, const char **joiner, const char **chomp)
{
    Py_ssize_t length = end - start;
    if (length < 1 || length > 2 || (length == 2 && at(reader, start + 1) != '-')) {
        return 0;
    }
    Py_UCS4 first = at(reader, start);
    if (first != '>' && first != '|') {
        return 0;
    }
    *joiner = first == '>' ? " " : "\n";
    *chomp = length == 2 ? "" : "\n";
    return 1;
}

/* `block_scalar`: the lines after `key: >-` (the current line), all indented alike, none blank;
   the reader is left on the line after them. */
static PyObject *
block_scalar(Reader *reader, const char *joiner_text, const char *chomp_text)
{
    PyObject *contents = PyList_New(0), *joiner = NULL, *joined = NULL, *value = NULL;
    if (contents == NULL) {
        return NULL;
    }
    Py_ssize_t indent = 0;
    for (next_line(reader); !at_end(reader); next_line(reader)) {
        Py_ssize_t first = skip_spaces(reader, reader->start);
        if (first == reader->end || at(reader, reader->end - 1) == ' ') {
            goto done; /* blank lines and trailing spaces have rules of their own */
        }
        Py_ssize_t depth = first - reader->start;
        if (depth == 0) {
            break;
        }
        if (indent == 0) {
            indent = depth;
        }
        else if (depth != indent) {
            goto done;
        }
        PyObject *line = PyUnicode_Substring(reader->source, first, reader->end);
        if (line == NULL || PyList_Append(contents, line) < 0) {
            Py_XDECREF(line);
            goto done;
        }
        Py_DECREF(line);
    }
    if (PyList_GET_SIZE(contents) == 0) {
        goto done;
    }
    joiner = PyUnicode_FromString(joiner_text);
    if (joiner == NULL) {
        goto done;
    }
    joined = PyUnicode_Join(joiner, contents);
    /* A final line break is kept ("clip") unless the scalar ends a source without one. */
    if (joined == NULL || *chomp_text == '\0' || (at_end(reader) && !reader->final_break)) {
        value = Py_XNewRef(joined);
        goto done;
    }
    PyObject *chomp = PyUnicode_FromString(chomp_text);
    if (chomp != NULL) {
        value = PyUnicode_Concat(joined, chomp);
        Py_DECREF(chomp);
    }
done:
    Py_DECREF(contents);
    Py_XDECREF(joiner);
    Py_XDECREF(joined);
    return value;
}

/* The key [KEY_START, KEY_END) of the current line, a new reference, if MAPPING does not hold it
   yet; NULL otherwise (a duplicate: not plain), or with an exception set. */
static PyObject *
new_key(const Reader *reader, PyObject *mapping, Py_ssize_t key_start, Py_ssize_t key_end)
{
    PyObject *key = PyUnicode_Substring(reader->source, key_start, key_end);
    if (key != NULL && PyDict_GET_SIZE(mapping) != 0 && PyDict_Contains(mapping, key) != 0) {
        Py_CLEAR(key); /* held already, or an exception set */
    }
    return key;
}

/* Sets KEY to VALUE in MAPPING; steals both. 0, or -1 (not plain, or an exception set). */
static int
set_key(PyObject *mapping, PyObject *key, PyObject *value)
{
    int result = value == NULL ? -1 : PyDict_SetItem(mapping, key, value);
    Py_DECREF(key);
    Py_XDECREF(value);
    return result;
}

/* `entry`: the `key: value` of a mapping in a sequence that starts at POSITION of the current
   line (matched by `_KEY` there), into ITEM. 0, or -1 (not plain, or an exception set). */
static int
entry(const Reader *reader, PyObject *item, Py_ssize_t position, Py_ssize_t colon, Py_ssize_t after)
{
    const char *joiner, *chomp;
    Py_ssize_t value_end = strip_end(reader, after, reader->end);
    if (value_end == after || block_indicator(reader, after, value_end, &joiner, &chomp)) {
        return -1;
    }
    PyObject *key = new_key(reader, item, position, colon);
    if (key == NULL) {
        return -1;
    }
    return set_key(item, key, scalar(reader, after, value_end));
}

/* `sequence`: the block sequence after `key:` (the current line), of scalars or of flat
   mappings, one per `- ` item; the reader is left on the line after it. */
static PyObject *
sequence(Reader *reader)
{
    /* `first_item`: its dashes' column is the first line's after the blank ones and comments */
    next_line(reader);
    while (!at_end(reader) && skippable(reader)) {
        next_line(reader);
    }
    if (at_end(reader)) {
        return NULL; /* `key:` with nothing after it: a null the loader places */
    }
    Py_ssize_t dash = skip_spaces(reader, reader->start) - reader->start;
    if (reader->start + dash + 1 >= reader->end || at(reader, reader->start + dash) != '-' ||
        at(reader, reader->start + dash + 1) != ' ') {
        return NULL; /* a nested mapping or an empty item: the loader's */
    }
    PyObject *items = PyList_New(0);
    if (items == NULL) {
        return NULL;
    }
    PyObject *item = NULL;     /* the current item's mapping (borrowed from ITEMS), if it is one */
    Py_ssize_t item_column = 0; /* the column (0-based) of its keys */
    for (; !at_end(reader); next_line(reader)) {
        if (skippable(reader)) {
            continue;
        }
        Py_ssize_t start = reader->start, first = skip_spaces(reader, start), depth = first - start;
        Py_ssize_t colon, after;
        if (depth == dash && at(reader, first) == '-' && first + 1 < reader->end && at(reader, first + 1) == ' ') {
            /* `start_item`: a scalar, or a mapping and its first `key: value` */
            Py_ssize_t body = skip_spaces(reader, first + 1);
            if (match_key(reader, body, &colon, &after)) {
                item = PyDict_New();
                if (item == NULL || PyList_Append(items, item) < 0) {
                    Py_XDECREF(item);
                    goto fail;
                }
                Py_DECREF(item); /* ITEMS holds it */
                item_column = body - start;
                if (entry(reader, item, body, colon, after) < 0) {
                    goto fail;
                }
            }
            else {
                PyObject *value = scalar(reader, body, strip_end(reader, body, reader->end));
                if (value == NULL || PyList_Append(items, value) < 0) {
                    Py_XDECREF(value);
                    goto fail;
                }
                Py_DECREF(value);
                item = NULL;
            }
        }
        else if (item != NULL && depth == item_column && match_key(reader, first, &colon, &after)) {
            if (entry(reader, item, first, colon, after) < 0) {
                goto fail;
            }
        }
        else if (depth == 0 && (dash > 0 || at(reader, start) != '-')) {
            return items; /* the next top-level key */
        }
        else {
            goto fail;
        }
    }
    return items;
fail:
    Py_DECREF(items);
    return NULL;
}

/* `_has_unusual`: whether SOURCE holds a character YAML rejects or reads as a line break. */
static int
has_unusual(const Reader *reader)
{
    if (reader->kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *data = reader->data;
        Py_ssize_t length = PyUnicode_GET_LENGTH(reader->source);
        for (Py_ssize_t index = 0; index < length; index++) {
            Py_UCS1 character = data[index];
            if ((character < 0x20 && character != '\n') || (character >= 0x7F && character < 0xA0)) {
                return 1;
            }
        }
        return 0;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(reader->source);
    for (Py_ssize_t index = 0; index < length; index++) {
        if (!usual(at(reader, index))) {
            return 1;
        }
    }
    return 0;
}

/* `_Reader.read`: the top-level mapping, or NULL (not plain, or an exception set). */
static PyObject *
read_mapping(Reader *reader)
{
    PyObject *data = PyDict_New();
    if (data == NULL) {
        return NULL;
    }
    while (!at_end(reader)) {
        if (skippable(reader)) {
            next_line(reader);
            continue;
        }
        Py_ssize_t start = reader->start, colon, after;
        PyObject *key = match_key(reader, start, &colon, &after) ? new_key(reader, data, start, colon) : NULL;
        if (key == NULL) {
            goto fail; /* not `key:`, or a duplicate: the loader reports it with both lines */
        }
        Py_ssize_t rest_end = strip_end(reader, after, reader->end);
        const char *joiner, *chomp;
        PyObject *value;
        if (block_indicator(reader, after, rest_end, &joiner, &chomp)) {
            value = block_scalar(reader, joiner, chomp);
        }
        else if (rest_end > after) {
            value = scalar(reader, after, rest_end);
            next_line(reader);
        }
        else {
            value = sequence(reader);
        }
        if (set_key(data, key, value) < 0) {
            goto fail;
        }
    }
    if (PyDict_GET_SIZE(data) == 0) {
        goto fail; /* empty: the loader says so */
    }
    return data;
fail:
    Py_DECREF(data);
    return NULL;
}

PyDoc_STRVAR(plain_data_doc,
             "plain_data(source, /)\n--\n\n"
             "The data of the front-matter SOURCE as read_plain(source, 0, positions=False) reads "
             "it, or None where that returns None (not plain YAML: the YAML loader must read it). "
             "plainyaml.py's _python_plain_data is the reference.");

static PyObject *
plain_data(PyObject *module, PyObject *source)
{
    (void)module;
    if (!PyUnicode_Check(source)) {
        PyErr_Format(PyExc_TypeError, "plain_data() takes a str, not %.200s", Py_TYPE(source)->tp_name);
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(source) < 0) {
        return NULL;
    }
#endif
    Reader reader = {
        .source = source,
        .data = PyUnicode_DATA(source),
        .kind = PyUnicode_KIND(source),
        .length = PyUnicode_GET_LENGTH(source),
    };
    if (has_unusual(&reader)) {
        Py_RETURN_NONE;
    }
    /* The line break that ends the last line belongs to a block scalar there (`|` keeps it). */
    reader.final_break = reader.length > 0 && at(&reader, reader.length - 1) == '\n';
    reader.length -= reader.final_break;
    find_end(&reader);
    PyObject *data = read_mapping(&reader);
    if (data == NULL && !PyErr_Occurred()) {
        Py_RETURN_NONE;
    }
    return data;
}

static PyMethodDef yamlscan_methods[] = {
    {"plain_data", plain_data, METH_O, plain_data_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef yamlscan_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "reviewflow.content._yamlscan",
    .m_doc = "The data of a plain front-matter, read without a YAML parser.",
    .m_size = 0,
    .m_methods = yamlscan_methods,
};

PyMODINIT_FUNC
PyInit__yamlscan(void)
{
    for (int character = 0; character < 128; character++) {
        int letter = (character >= 'A' && character <= 'Z') || (character >= 'a' && character <= 'z');
        int digit = character >= '0' && character <= '9';
        unsigned char class = 0;
        if (letter || character == '_') {
            class |= KEY_FIRST;
        }
        if (letter || digit || character == '_' || character == '-') {
            class |= KEY_REST;
        }
        if (letter) {
            class |= WORD_FIRST;
        }
        if (letter || digit || (character != '\0' && strchr(" '()/-", character) != NULL)) {
            class |= WORD_REST | FLOW_REST;
        }
        if (character == ',') {
            class |= WORD_REST;
        }
        classes[character] = class;
    }
    return PyModuleDef_Init(&yamlscan_module);
}
