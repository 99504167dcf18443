/* reviewflow.content._textscan: per-text tables of a body's prose, each in one pass over the
   text's buffer.

   Every approved text is checked on a cold `check` and on `verify --no-cache`, and three of the
   tables its rules read cost most of what was left in Python: the words (the vocabularies' word
   set, the reading grade's syllable sum), the sentence starts, and which sentences hold no
   citation marker.

   - word_counts: in Python a translation, a split into ~705 strings and a set or a count over
     them; a body has ~64 distinct words, so most of those strings were made to be thrown away.
     Here the words are found in the buffer and counted in a small hash table keyed on it, and a
     string is made only for each distinct word.
   - sentence_starts: in Python three regular expressions (a match object for every end), a set
     and a sort. Here each end mark is found by CPython's character search and tested as the
     expressions test it; the starts are kept as bits, so they come out in order, each once.
   - uncited: in Python one regular-expression search a sentence (~87 a body). Here each "[" is
     found once and tested as citations.MARKER tests it, against the sentence it starts in.
   - marks_before_digits: where a citation written as a plain number may follow a sentence
     ("… survival. 1, 2"). `re` scanning a body for a full stop and trying the bare citation's
     expression at each (~80 a body) cost ~94 K instructions a body, ~6 % of checking an
     approved text; here each "." is found by CPython's character search and the few followed
     by a digit are left for the expression.

   The Python references are reviewflow/content/prose.py's `_python_word_counts` and
   `_python_sentence_starts` and reviewflow/checks/prose_fields.py's `_python_uncited` and
   `_python_marks_before_digits`, which run instead where this module is not built or is older
   than this file (reviewflow/compiled.py); tests/test_textscan.py holds each equal to its
   reference. */

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

/* --- Sentence starts ------------------------------------------------------------------------ */

/* The text as `re` reads it: any width, with `re`'s classes for str patterns. */
typedef struct {
    const void *data;
    int kind;
    Py_ssize_t length;
} Text;

static inline Py_UCS4
at(const Text *text, Py_ssize_t index)
{
    return PyUnicode_READ(text->kind, text->data, index);
}

/* Reads the arguments of a function of two whose first is the text (NAME, for the errors): 0, or
   -1 with an exception set. */
static int
read_text_argument(const char *name, PyObject *const *args, Py_ssize_t nargs, Text *text)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "%s() takes 2 arguments (%zd given)", name, nargs);
        return -1;
    }
    if (!PyUnicode_Check(args[0])) {
        PyErr_Format(PyExc_TypeError, "%s() takes a str, not %.200s", name, Py_TYPE(args[0])->tp_name);
        return -1;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(args[0]) < 0) {
        return -1;
    }
#endif
    text->data = PyUnicode_DATA(args[0]);
    text->kind = PyUnicode_KIND(args[0]);
    text->length = PyUnicode_GET_LENGTH(args[0]);
    return 0;
}

/* \s of a str pattern */
static inline int
is_space(Py_UCS4 character)
{
    return Py_UNICODE_ISSPACE(character);
}

/* \w of a str pattern: what \b tells apart */
static inline int
is_word(Py_UCS4 character)
{
    return character == '_' || Py_UNICODE_ISALNUM(character);
}

/* [\"'”’)]: what may close a sentence after its end mark */
static inline int
is_closer(Py_UCS4 character)
{
    return character == '"' || character == '\'' || character == 0x201D || character == 0x2019 || character == ')';
}

/* [A-Z0-9\"“'(]: what a sentence after an end may start with */
static inline int
is_opener(Py_UCS4 character)
{
    return (character >= 'A' && character <= 'Z') || (character >= '0' && character <= '9') || character == '"' ||
           character == 0x201C || character == '\'' || character == '(';
}

/* Where the next sentence starts after the end mark at END: past the closers and the spaces or
   tabs (at least one) that follow it, on a character that may start a sentence; -1 where there is
   none (where [\"'”’)]*[ \t]+(?=[A-Z0-9\"“'(]) does not match). */
static Py_ssize_t
start_after(const Text *text, Py_ssize_t end)
{
    Py_ssize_t position = end + 1;
    while (position < text->length && is_closer(at(text, position))) {
        position++;
    }
    Py_ssize_t spaces = position;
    while (position < text->length && (at(text, position) == ' ' || at(text, position) == '\t')) {
        position++;
    }
    if (position == spaces || position == text->length || !is_opener(at(text, position))) {
        return -1;
    }
    return position;
}

/* Whether the characters before END are WORD (its first letter in either case where
   FIRST_EITHER_CASE) and WORD starts a word: the test of a lookbehind `(?<!\bWORD\.)`. */
static int
word_before(const Text *text, Py_ssize_t end, const char *word, int first_either_case)
{
    Py_ssize_t length = (Py_ssize_t)strlen(word);
    Py_ssize_t start = end - length;
    if (start < 0) {
        return 0;
    }
    for (Py_ssize_t index = 0; index < length; index++) {
        Py_UCS4 character = at(text, start + index);
        Py_UCS4 wanted = (Py_UCS4)(unsigned char)word[index];
        if (character != wanted && !(index == 0 && first_either_case && character == (wanted ^ 0x20))) {
            return 0;
        }
    }
    return start == 0 || !is_word(at(text, start - 1));
}

/* Whether the full stop at STOP ends an abbreviation rather than a sentence: e.g., i.e., vs.,
   Dr., approx., et al., fig., cf. (_FULL_STOP_END's lookbehinds). Each ends in one of the
   letters gGeEsrxlf: after any other character none can. */
static int
ends_abbreviation(const Text *text, Py_ssize_t stop)
{
    if (stop == 0) {
        return 0;
    }
    Py_UCS4 last = at(text, stop - 1);
    switch (last) {
    case 'g': case 'G': case 'e': case 'E': case 's': case 'r': case 'x': case 'l': case 'f':
        break;
    default:
        return 0;
    }
    /* [Ee]\.[Gg] and [Ii]\.[Ee], each letter in either case (no \b) */
    if (stop >= 3 && at(text, stop - 2) == '.') {
        Py_UCS4 first = at(text, stop - 3) | 0x20, second = last | 0x20;
        if ((first == 'e' && second == 'g') || (first == 'i' && second == 'e')) {
            return 1;
        }
    }
    return word_before(text, stop, "vs", 1) || word_before(text, stop, "dr", 1) ||
           word_before(text, stop, "approx", 1) || word_before(text, stop, "al", 0) ||
           word_before(text, stop, "fig", 1) || word_before(text, stop, "cf", 1);
}

/* The offsets where sentences start, one bit each (64 to a word): in order and each once
   whatever order they are found in. A body's fit on the caller's stack. */
#define STACK_WORDS_OF_BITS 256

typedef struct {
    uint64_t *bits;
    Py_ssize_t count;
} Starts;

static inline void
add_start(Starts *starts, Py_ssize_t position)
{
    uint64_t bit = (uint64_t)1 << (position & 63);
    uint64_t *word = &starts->bits[position >> 6];
    if (!(*word & bit)) {
        *word |= bit;
        starts->count++;
    }
}

/* The next MARK at or after FROM in STRING, -1 if there is none (CPython's search: memchr for
   one-byte text); -2 with an exception set if the search failed. */
static inline Py_ssize_t
find(PyObject *string, Py_UCS4 mark, Py_ssize_t from, Py_ssize_t length)
{
    return from >= length ? -1 : PyUnicode_FindChar(string, mark, from, length, 1);
}

/* Adds where a sentence starts after each end MARK (. ! or ?) ends one: -1 on an error. */
static int
add_ends(PyObject *string, const Text *text, Py_UCS4 mark, Starts *starts)
{
    Py_ssize_t position = find(string, mark, 0, text->length);
    while (position >= 0) {
        Py_ssize_t next = start_after(text, position);
        if (next >= 0 && (mark != '.' || !ends_abbreviation(text, position))) {
            add_start(starts, next);
        }
        position = find(string, mark, position + 1, text->length);
    }
    return position == -1 ? 0 : -1;
}

/* Adds where _BLOCK_START (\n\s*(?=\S)) matches end: after each run of white space that holds a
   line break, on the character that is not white space after it. -1 on an error. */
static int
add_block_starts(PyObject *string, const Text *text, Starts *starts)
{
    Py_ssize_t position = find(string, '\n', 0, text->length);
    while (position >= 0) {
        position++;
        while (position < text->length && is_space(at(text, position))) {
            position++;
        }
        if (position < text->length) {
            add_start(starts, position);
        }
        position = find(string, '\n', position, text->length);
    }
    return position == -1 ? 0 : -1;
}

/* Adds the offsets of KNOWN (a list of ints, each an offset in TEXT) and returns 1, or returns 0
   if one of them is on white space (the parse's starts are then not used: a start on white space
   moves to the next character that is not); -1 with an exception set if one is no offset. */
static int
add_known(const Text *text, PyObject *known, Starts *starts)
{
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(known); index++) {
        Py_ssize_t offset = PyLong_AsSsize_t(PyList_GET_ITEM(known, index));
        if (offset == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (offset < 0 || offset >= text->length) {
            PyErr_SetString(PyExc_IndexError, "a known block start is outside the text");
            return -1;
        }
        if (is_space(at(text, offset))) {
            return 0;
        }
    }
    for (Py_ssize_t index = 0; index < PyList_GET_SIZE(known); index++) {
        add_start(starts, PyLong_AsSsize_t(PyList_GET_ITEM(known, index)));
    }
    return 1;
}

/* The index of the lowest bit set in a word that is not 0. */
static inline int
lowest_bit(uint64_t word)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctzll(word);
#else
    int index = 0;
    while (!(word & 1)) {
        word >>= 1;
        index++;
    }
    return index;
#endif
}

/* The starts, in order, as a list of ints. */
static PyObject *
list_of(const Starts *starts, Py_ssize_t words)
{
    PyObject *list = PyList_New(starts->count);
    if (list == NULL) {
        return NULL;
    }
    Py_ssize_t index = 0;
    for (Py_ssize_t word_index = 0; word_index < words; word_index++) {
        uint64_t word = starts->bits[word_index];
        while (word) {
            PyObject *offset = PyLong_FromSsize_t(word_index * 64 + lowest_bit(word));
            if (offset == NULL) {
                Py_DECREF(list);
                return NULL;
            }
            PyList_SET_ITEM(list, index++, offset);
            word &= word - 1;
        }
    }
    return list;
}

PyDoc_STRVAR(sentence_starts_doc,
             "sentence_starts(text, known, /)\n--\n\n"
             "Where the sentences of TEXT start, in order: at its first character that is not "
             "white space, where each match of _FULL_STOP_END and _OTHER_END ends, and at each "
             "block (the offsets KNOWN, a list, where the parse knew them and none is on white "
             "space; else where _BLOCK_START's matches end). prose.py's _python_sentence_starts "
             "is the reference.");

static PyObject *
sentence_starts(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    Text text;
    if (read_text_argument("sentence_starts", args, nargs, &text) < 0) {
        return NULL;
    }
    PyObject *string = args[0], *known = args[1];
    if (known != Py_None && !PyList_Check(known)) {
        PyErr_Format(PyExc_TypeError, "sentence_starts() takes a list or None, not %.200s",
                     Py_TYPE(known)->tp_name);
        return NULL;
    }
    Py_ssize_t first = 0;
    while (first < text.length && is_space(at(&text, first))) {
        first++;
    }
    if (first == text.length) {
        return PyList_New(0);
    }
    uint64_t stack[STACK_WORDS_OF_BITS];
    Py_ssize_t words = text.length / 64 + 1;
    Starts starts = {stack, 0};
    if (words <= STACK_WORDS_OF_BITS) {
        memset(stack, 0, (size_t)words * sizeof(uint64_t));
    }
    else if ((starts.bits = PyMem_Calloc((size_t)words, sizeof(uint64_t))) == NULL) {
        return PyErr_NoMemory();
    }
    add_start(&starts, first);
    int found = add_ends(string, &text, '.', &starts) < 0 || add_ends(string, &text, '!', &starts) < 0 ||
                        add_ends(string, &text, '?', &starts) < 0
                    ? -1
                    : 0;
    if (found == 0 && known != Py_None) {
        found = add_known(&text, known, &starts);
    }
    if (found == 0) {
        found = add_block_starts(string, &text, &starts);
    }
    PyObject *list = found < 0 ? NULL : list_of(&starts, words);
    if (starts.bits != stack) {
        PyMem_Free(starts.bits);
    }
    return list;
}

/* --- Sentences without a citation marker ---------------------------------------------------- */

/* Whether a citation marker starts with the "[" at OPEN and ends before END: citations.MARKER,
   \[(\d[^\[\]\nA-Za-z]{0,39})\]. Its inside holds no "]", so the first "]" after the digit is the
   only one that can close it. */
static int
marker_before(const Text *text, Py_ssize_t open, Py_ssize_t end)
{
    Py_ssize_t position = open + 1;
    if (position >= end || !Py_UNICODE_ISDECIMAL(at(text, position))) {
        return 0;
    }
    Py_ssize_t last = position + 40; /* the digit, 39 more, then the "]" */
    for (position++; position < end && position <= last; position++) {
        Py_UCS4 character = at(text, position);
        if (character == ']') {
            return 1;
        }
        if (character == '[' || character == '\n' || (character < 128 && Py_ISALPHA(character))) {
            return 0;
        }
    }
    return 0;
}

/* Reads the sentence starts (a list of ints in order, each an offset in the text) into BOUNDS,
   the text's length after them: each sentence's bounds. -1 with an exception set if they are not. */
static int
read_bounds(PyObject *starts, Py_ssize_t length, Py_ssize_t *bounds)
{
    Py_ssize_t count = PyList_GET_SIZE(starts);
    for (Py_ssize_t index = 0; index < count; index++) {
        Py_ssize_t start = PyLong_AsSsize_t(PyList_GET_ITEM(starts, index));
        if (start == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (start < (index ? bounds[index - 1] : 0) || start > length) {
            PyErr_SetString(PyExc_ValueError, "uncited() takes sentence starts in order, each in the text");
            return -1;
        }
        bounds[index] = start;
    }
    bounds[count] = length;
    return 0;
}

PyDoc_STRVAR(uncited_doc,
             "uncited(text, starts, /)\n--\n\n"
             "For each sentence of TEXT (STARTS: where each starts, in order; each ends where the "
             "next starts, the last at the text's end), whether no citation marker lies wholly "
             "inside it: not MARKER.search(text, start, end). prose_fields.py's _python_uncited is "
             "the reference.");

static PyObject *
uncited(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    Text text;
    if (read_text_argument("uncited", args, nargs, &text) < 0) {
        return NULL;
    }
    PyObject *string = args[0], *starts = args[1];
    if (!PyList_Check(starts)) {
        PyErr_Format(PyExc_TypeError, "uncited() takes a list of offsets, not %.200s", Py_TYPE(starts)->tp_name);
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(starts);
    Py_ssize_t *bounds = PyMem_Malloc((size_t)(count + 1) * sizeof(Py_ssize_t));
    unsigned char *cited = PyMem_Calloc((size_t)count + 1, 1);
    PyObject *flags = NULL;
    if (bounds == NULL || cited == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (read_bounds(starts, text.length, bounds) < 0) {
        goto done;
    }
    /* Each marker cites the sentence it starts in if it ends before the next one starts. */
    Py_ssize_t sentence = -1;
    Py_ssize_t open = count && text.length ? PyUnicode_FindChar(string, '[', 0, text.length, 1) : -1;
    while (open >= 0) {
        while (sentence + 1 < count && bounds[sentence + 1] <= open) {
            sentence++;
        }
        if (sentence >= 0 && marker_before(&text, open, bounds[sentence + 1])) {
            cited[sentence] = 1;
        }
        open = open + 1 < text.length ? PyUnicode_FindChar(string, '[', open + 1, text.length, 1) : -1;
    }
    if (open == -2) {
        goto done;
    }
    flags = PyList_New(count);
    if (flags == NULL) {
        goto done;
    }
    for (Py_ssize_t index = 0; index < count; index++) {
        PyList_SET_ITEM(flags, index, Py_NewRef(cited[index] ? Py_False : Py_True));
    }
done:
    PyMem_Free(bounds);
    PyMem_Free(cited);
    return flags;
}

/* --- Marks before a digit ------------------------------------------------------------------- */

/* Whether the mark at MARK is followed by spaces or tabs, or none, and then a decimal digit
   (\d of a str pattern: Py_UNICODE_ISDECIMAL). */
static int
before_digit(const Text *text, Py_ssize_t mark)
{
    Py_ssize_t position = mark + 1;
    while (position < text->length && (at(text, position) == ' ' || at(text, position) == '\t')) {
        position++;
    }
    return position < text->length && Py_UNICODE_ISDECIMAL(at(text, position));
}

/* Appends OFFSET to FOUND: -1 on an error. */
static int
append_offset(PyObject *found, Py_ssize_t offset)
{
    PyObject *number = PyLong_FromSsize_t(offset);
    if (number == NULL) {
        return -1;
    }
    int failed = PyList_Append(found, number);
    Py_DECREF(number);
    return failed;
}

PyDoc_STRVAR(marks_before_digits_doc,
             "marks_before_digits(text, every_mark, /)\n--\n\n"
             "The offset of each full stop in TEXT (EVERY_MARK true: each '.', '!' and '?') that is "
             "followed by spaces or tabs, or none, and then a decimal digit, in order: where "
             "[.!?](?=[ \\t]*\\d) matches. prose_fields.py's _python_marks_before_digits is the "
             "reference.");

static PyObject *
marks_before_digits(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    Text text;
    if (read_text_argument("marks_before_digits", args, nargs, &text) < 0) {
        return NULL;
    }
    int every_mark = PyObject_IsTrue(args[1]);
    if (every_mark < 0) {
        return NULL;
    }
    PyObject *found = PyList_New(0);
    if (found == NULL) {
        return NULL;
    }
    if (every_mark) { /* a text with "!" or "?": rare, read a character at a time */
        for (Py_ssize_t position = 0; position < text.length; position++) {
            Py_UCS4 character = at(&text, position);
            if ((character == '.' || character == '!' || character == '?') && before_digit(&text, position) &&
                append_offset(found, position) < 0) {
                Py_DECREF(found);
                return NULL;
            }
        }
        return found;
    }
    Py_ssize_t position = find(args[0], '.', 0, text.length);
    while (position >= 0) {
        if (before_digit(&text, position) && append_offset(found, position) < 0) {
            Py_DECREF(found);
            return NULL;
        }
        position = find(args[0], '.', position + 1, text.length);
    }
    if (position == -2) {
        Py_DECREF(found);
        return NULL;
    }
    return found;
}

static PyMethodDef textscan_methods[] = {
    {"word_counts", word_counts, METH_O, word_counts_doc},
    {"sentence_starts", (PyCFunction)(void (*)(void))sentence_starts, METH_FASTCALL, sentence_starts_doc},
    {"uncited", (PyCFunction)(void (*)(void))uncited, METH_FASTCALL, uncited_doc},
    {"marks_before_digits", (PyCFunction)(void (*)(void))marks_before_digits, METH_FASTCALL,
     marks_before_digits_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef textscan_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "reviewflow.content._textscan",
    .m_doc = "Per-text tables of a body's prose: word counts, sentence starts, uncited sentences, "
             "the full stops before a digit.",
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
