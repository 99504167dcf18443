/* reviewflow.content._textscan: the per-text word counts of a body's prose, in one pass.

   The checks read every approved text's words (the vocabularies' word set, the syllable sum of
   the reading grade). In Python that is a translation, a split into ~705 strings and a set or a
   count over them; a body has ~64 distinct words, so most of those strings are made only to be
   thrown away. Here the words are found in the string's own buffer and counted in a small hash
   table keyed on it, and a string is made only for each distinct word.

   The Python reference is reviewflow/content/prose.py's `_python_word_counts`, which runs
   instead where this module is not built or is older than this file (reviewflow/compiled.py);
   tests/test_textscan.py holds the two equal. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Whether a code point below 256 separates words: every ASCII character that is not a letter or
   a digit (prose.WORD_BREAKS makes each a space), and the Latin-1 white space str.split() splits
   at (U+0085, U+00A0). Filled once, when the module is loaded. */
static unsigned char separates_below_256[256];

static inline int
separates(Py_UCS4 character)
{
    return character < 256 ? separates_below_256[character] : Py_UNICODE_ISSPACE(character);
}

/* One distinct word: where it first occurs in the text, and how often it occurs. */
typedef struct {
    Py_ssize_t start;
    Py_ssize_t length;
    Py_ssize_t count;
    uint64_t hash;
} Word;

/* The distinct words in order of their first occurrence, and an open-addressing index of them
   (each slot a position in `words`, or -1). Both start on the caller's stack, which holds a
   body's words; a text with more moves them to the heap. */
#define STACK_WORDS 128
#define STACK_SLOTS (2 * STACK_WORDS)

typedef struct {
    const char *data; /* the text's buffer */
    int kind;         /* bytes a character: 1, 2 or 4 */
    Word *words;
    Py_ssize_t used;
    Py_ssize_t capacity;
    Py_ssize_t *slots;
    size_t mask; /* slots - 1 (a power of two) */
    Word *stack_words;
    Py_ssize_t *stack_slots;
} Table;

static inline size_t
slot_of(uint64_t hash)
{
    return (size_t)(hash ^ (hash >> 32));
}

/* The index at twice its size, the words placed anew from their kept hashes. */
static int
grow_slots(Table *table)
{
    size_t size = (table->mask + 1) * 2;
    if (size > (size_t)PY_SSIZE_T_MAX / sizeof(Py_ssize_t)) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t *slots = PyMem_Malloc(size * sizeof(Py_ssize_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(slots, 0xff, size * sizeof(Py_ssize_t)); /* every slot -1 */
    size_t mask = size - 1;
    for (Py_ssize_t index = 0; index < table->used; index++) {
        size_t slot = slot_of(table->words[index].hash) & mask;
        while (slots[slot] >= 0) {
            slot = (slot + 1) & mask;
        }
        slots[slot] = index;
    }
    if (table->slots != table->stack_slots) {
        PyMem_Free(table->slots);
    }
    table->slots = slots;
    table->mask = mask;
    return 0;
}

static int
grow_words(Table *table)
{
    if (table->capacity > PY_SSIZE_T_MAX / 2 / (Py_ssize_t)sizeof(Word)) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t capacity = table->capacity * 2;
    Word *words;
    if (table->words == table->stack_words) {
        words = PyMem_Malloc((size_t)capacity * sizeof(Word));
        if (words != NULL) {
            memcpy(words, table->words, (size_t)table->used * sizeof(Word));
        }
    }
    else {
        words = PyMem_Realloc(table->words, (size_t)capacity * sizeof(Word));
    }
    if (words == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    table->words = words;
    table->capacity = capacity;
    return 0;
}

/* Counts the word of LENGTH characters at START (its hash HASH): once more if it is known, else
   as a new distinct word. */
static int
count_word(Table *table, Py_ssize_t start, Py_ssize_t length, uint64_t hash)
{
    const char *data = table->data;
    size_t bytes = (size_t)length * (size_t)table->kind;
    size_t slot = slot_of(hash) & table->mask;
    for (;;) {
        Py_ssize_t index = table->slots[slot];
        if (index < 0) {
            break;
        }
        Word *word = &table->words[index];
        if (word->hash == hash && word->length == length &&
            memcmp(data + (size_t)word->start * (size_t)table->kind,
                   data + (size_t)start * (size_t)table->kind, bytes) == 0) {
            word->count++;
            return 0;
        }
        slot = (slot + 1) & table->mask;
    }
    if (table->used == table->capacity && grow_words(table) < 0) {
        return -1;
    }
    table->slots[slot] = table->used;
    table->words[table->used++] = (Word){start, length, 1, hash};
    if ((size_t)table->used * 2 > table->mask + 1 && grow_slots(table) < 0) {
        return -1;
    }
    return 0;
}

/* FNV-1a over the word's code points: the index's hash, not Python's (no string is made for a
   repeated word). */
#define HASH_START UINT64_C(14695981039346656037)
#define HASH_STEP(hash, character) (((hash) ^ (uint64_t)(character)) * UINT64_C(1099511628211))

/* One scan of a buffer of CHARACTER (Py_UCS1, Py_UCS2 or Py_UCS4), each word counted as it ends. */
#define DEFINE_SCAN(NAME, CHARACTER)                                                              \
    static int NAME(Table *table, Py_ssize_t length)                                             \
    {                                                                                             \
        const CHARACTER *text = (const CHARACTER *)table->data;                                   \
        Py_ssize_t position = 0;                                                                  \
        while (position < length) {                                                               \
            while (position < length && separates(text[position])) {                              \
                position++;                                                                       \
            }                                                                                     \
            if (position == length) {                                                             \
                break;                                                                            \
            }                                                                                     \
            Py_ssize_t start = position;                                                          \
            uint64_t hash = HASH_START;                                                           \
            while (position < length && !separates(text[position])) {                             \
                hash = HASH_STEP(hash, text[position]);                                           \
                position++;                                                                       \
            }                                                                                     \
            if (count_word(table, start, position - start, hash) < 0) {                           \
                return -1;                                                                        \
            }                                                                                     \
        }                                                                                         \
        return 0;                                                                                 \
    }

DEFINE_SCAN(scan_ucs1, Py_UCS1)
DEFINE_SCAN(scan_ucs2, Py_UCS2)
DEFINE_SCAN(scan_ucs4, Py_UCS4)

/* The counts as a dict, each distinct word made a string once, in order of first occurrence. */
static PyObject *
counts_of(Table *table, PyObject *text)
{
    PyObject *counts = PyDict_New();
    if (counts == NULL) {
        return NULL;
    }
    for (Py_ssize_t index = 0; index < table->used; index++) {
        Word *word = &table->words[index];
        PyObject *key = PyUnicode_Substring(text, word->start, word->start + word->length);
        if (key == NULL) {
            Py_DECREF(counts);
            return NULL;
        }
        PyObject *count = PyLong_FromSsize_t(word->count);
        if (count == NULL) {
            Py_DECREF(key);
            Py_DECREF(counts);
            return NULL;
        }
        int failed = PyDict_SetItem(counts, key, count);
        Py_DECREF(key);
        Py_DECREF(count);
        if (failed < 0) {
            Py_DECREF(counts);
            return NULL;
        }
    }
    return counts;
}

PyDoc_STRVAR(word_counts_doc,
             "word_counts(lowered, /)\n--\n\n"
             "The words of LOWERED as lowered.translate(WORD_BREAKS).split() gives them (every "
             "ASCII character that is not a letter or a digit separates words, and so does "
             "str.split()'s white space), each with how often it occurs, in order of first "
             "occurrence.");

static PyObject *
word_counts(PyObject *module, PyObject *text)
{
    (void)module;
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "word_counts() takes a str, not %.200s", Py_TYPE(text)->tp_name);
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) {
        return NULL;
    }
#endif
    Word stack_words[STACK_WORDS];
    Py_ssize_t stack_slots[STACK_SLOTS];
    memset(stack_slots, 0xff, sizeof(stack_slots)); /* every slot -1 */
    Table table = {
        .data = PyUnicode_DATA(text),
        .kind = PyUnicode_KIND(text),
        .words = stack_words,
        .used = 0,
        .capacity = STACK_WORDS,
        .slots = stack_slots,
        .mask = STACK_SLOTS - 1,
        .stack_words = stack_words,
        .stack_slots = stack_slots,
    };
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int scanned;
    switch (table.kind) {
    case PyUnicode_1BYTE_KIND:
        scanned = scan_ucs1(&table, length);
        break;
    case PyUnicode_2BYTE_KIND:
        scanned = scan_ucs2(&table, length);
        break;
    default:
        scanned = scan_ucs4(&table, length);
        break;
    }
    PyObject *counts = scanned < 0 ? NULL : counts_of(&table, text);
    if (table.words != stack_words) {
        PyMem_Free(table.words);
    }
    if (table.slots != stack_slots) {
        PyMem_Free(table.slots);
    }
    return counts;
}

static PyMethodDef textscan_methods[] = {
    {"word_counts", word_counts, METH_O, word_counts_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef textscan_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "reviewflow.content._textscan",
    .m_doc = "The per-text word counts of a body's prose, in one pass (reviewflow/content/textscan.c).",
    .m_size = 0,
    .m_methods = textscan_methods,
};

PyMODINIT_FUNC
PyInit__textscan(void)
{
    for (Py_UCS4 character = 0; character < 256; character++) {
        int ascii_alnum = (character >= '0' && character <= '9') || (character >= 'a' && character <= 'z') ||
                          (character >= 'A' && character <= 'Z');
        separates_below_256[character] =
            character < 128 ? !ascii_alnum : (unsigned char)Py_UNICODE_ISSPACE(character);
    }
    return PyModuleDef_Init(&textscan_module);
}
