/* Document counts of ASCII texts in compiled code: the `scan` backend's per-document work.
 *
 * Python's Matcher (matching.py) defines what a match is; this module implements the same rule for
 * texts that are pure ASCII, where it is simple: NFC/NFKC leave ASCII unchanged, lower-casing is
 * A-Z -> a-z, whitespace is the ten ASCII characters for which str.isspace() holds, and a word
 * character is [A-Za-z0-9_] (no script is unspaced). One call per document walks a trie of the
 * ASCII forms from every position where a match may start, marks the entities and pairs found,
 * and adds them to the counts: no Python object per match. A text that is not ASCII is refused
 * (-1) and the caller counts it with Matcher. tests/frequency_index/test_fi_ascii_count.py checks
 * that both give the same counts.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A node of the trie of forms, path-compressed: a run of nodes that each have one child and end
 * no form is one node whose label holds their bytes (a name is one node, not one per letter). The
 * label's first byte is the one its parent branches on. Nodes with many children get a dense row
 * of 256 children; a node with one child finds it without the edge arrays. */
typedef struct { /* 16 bytes: the walk is bound by how many nodes stay in cache */
    int32_t form;        /* the form ending at the end of the label, -1 if none; once the entities
                          * are known: its one entity (>= 0), or -2 - the form when it has several */
    int32_t label;       /* offset of the label in `labels` */
    int32_t next;        /* ONE: the child; DENSE: its row in `dense`; SPARSE: its first edge */
    uint16_t label_len;  /* longer runs are split into several nodes */
    uint8_t kind;        /* LEAF, ONE, DENSE or SPARSE, | END_WORD when the form ends with a word character */
    uint8_t last_edge;   /* SPARSE: children - 1 */
} Node;

enum { LEAF, ONE, DENSE, SPARSE, KIND = 3, END_WORD = 4 };

typedef struct {
    int32_t pair, object;
} PairOf; /* one pair of a subject entity */

typedef struct { /* what one document needs of an entity, in one cache line */
    uint32_t seen;       /* the number of the document that last found it */
    uint32_t count;      /* documents that contain it, since the last flush */
    int32_t pairs, pairs_end; /* its pairs as a subject, in subject_pairs */
} Entity;

enum { FLUSH_EVERY = 1 << 30 }; /* documents: uint32 counts are added to the int64 totals before they can overflow */
enum { DENSE_CHILDREN = 8, MAX_LABEL = 65535 };

typedef struct {
    PyObject_HEAD
    int word_boundaries, lowercase, fold_whitespace;
    Py_ssize_t n_nodes, n_forms, n_entities, n_pairs;
    uint8_t map[256];         /* a text byte as the forms were made: lower-cased, whitespace folded */
    uint8_t starts[256];      /* per text byte: 1 if a word character, | 2 if some form starts with it */
    int32_t root[256];        /* child of the root per text byte (after map), -1 if none */
    Node *nodes;
    uint8_t *labels;
    uint8_t *edge_byte;       /* per node, its children's first label bytes in order */
    int32_t *edge_node;
    int32_t *dense;           /* rows of 256 children for the nodes with many children */
    int32_t *form_entity_start, *form_entity; /* form -> its entities */
    PairOf *subject_pairs;
    Entity *entities;
    uint32_t *pair_counts;    /* documents that contain each pair, since the last flush */
    int64_t *entity_totals, *pair_totals;
    int32_t *found;           /* entities of the current document */
    uint32_t document, since_flush;
} Scanner;

static uint8_t IS_WORD[256], IS_SPACE[256];

static void init_tables(void) {
    for (int c = 0; c < 256; c++) {
        IS_WORD[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        IS_SPACE[c] = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' ||
                      (c >= 0x1c && c <= 0x1f);
    }
}

static void scanner_free_arrays(Scanner *s) {
    void *arrays[] = {s->nodes, s->labels, s->edge_byte, s->edge_node, s->dense,
                      s->form_entity_start, s->form_entity, s->subject_pairs, s->entities, s->pair_counts,
                      s->entity_totals, s->pair_totals, s->found};
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) free(arrays[i]);
}

static void scanner_dealloc(Scanner *s) {
    scanner_free_arrays(s);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

/* An int32 array from a Python sequence of ints. */
static int32_t *int_array(PyObject *seq, Py_ssize_t *n_out, const char *what) {
    PyObject *fast = PySequence_Fast(seq, what);
    if (!fast) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    int32_t *out = malloc(sizeof(int32_t) * (n ? n : 1));
    if (!out) { Py_DECREF(fast); PyErr_NoMemory(); return NULL; }
    for (Py_ssize_t i = 0; i < n; i++) {
        long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(fast, i));
        if (v == -1 && PyErr_Occurred()) { free(out); Py_DECREF(fast); return NULL; }
        out[i] = (int32_t)v;
    }
    Py_DECREF(fast);
    *n_out = n;
    return out;
}

/* The child of `node` whose label starts with `c`, or -1. A single child is returned unchecked:
 * its label comparison, which starts with that byte, checks it. */
static inline int32_t child(const Scanner *s, int32_t node, uint8_t c) {
    const Node *nd = &s->nodes[node];
    switch (nd->kind & KIND) {
    case ONE:
        return nd->next;
    case DENSE:
        return s->dense[(size_t)nd->next * 256 + c];
    case SPARSE: {
        for (int32_t e = nd->next, last = nd->next + nd->last_edge; e <= last; e++)
            if (s->edge_byte[e] >= c) return s->edge_byte[e] == c ? s->edge_node[e] : -1;
        return -1;
    }
    default:
        return -1;
    }
}

typedef struct {
    const uint8_t *bytes;
    Py_ssize_t len;
    int32_t id;
} FormRef;

static int compare_forms(const void *a, const void *b) {
    const FormRef *x = a, *y = b;
    int c = memcmp(x->bytes, y->bytes, (size_t)(x->len < y->len ? x->len : y->len));
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The path-compressed trie of the ASCII forms among `forms` (a list of str; a form's id is its
 * position). First a plain trie, one node per byte, built from the forms sorted by their bytes:
 * each form shares a prefix with the one before, so its new nodes hang off that form's path, and
 * nodes are numbered in creation order, which keeps every node's children sorted by byte. Then
 * each run of single-child nodes that end no form becomes one labelled node. */
static int build_trie(Scanner *s, PyObject *forms) {
    PyObject *fast = PySequence_Fast(forms, "forms must be a list of str");
    if (!fast) return -1;
    if (PySequence_Fast_GET_SIZE(fast) != s->n_forms) {
        Py_DECREF(fast);
        PyErr_SetString(PyExc_ValueError, "forms and form_entities differ in length");
        return -1;
    }
    FormRef *refs = malloc(sizeof(FormRef) * (s->n_forms ? s->n_forms : 1));
    if (!refs) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t n = 0, total = 1;
    for (Py_ssize_t i = 0; i < s->n_forms; i++) {
        PyObject *form = PySequence_Fast_GET_ITEM(fast, i);
        if (!PyUnicode_Check(form) || PyUnicode_GET_LENGTH(form) == 0) {
            free(refs);
            Py_DECREF(fast);
            PyErr_SetString(PyExc_ValueError, "every form must be a non-empty str");
            return -1;
        }
#if PY_VERSION_HEX < 0x030C0000
        if (PyUnicode_READY(form) < 0) { free(refs); Py_DECREF(fast); return -1; }
#endif
        if (!PyUnicode_IS_ASCII(form)) continue; /* it cannot occur in an ASCII text */
        refs[n].bytes = PyUnicode_1BYTE_DATA(form);
        refs[n].len = PyUnicode_GET_LENGTH(form);
        refs[n].id = (int32_t)i;
        total += refs[n++].len;
    }
    qsort(refs, (size_t)n, sizeof(FormRef), compare_forms);
    if (total >= INT32_MAX / 2) {
        free(refs);
        Py_DECREF(fast);
        PyErr_SetString(PyExc_ValueError, "the forms are too long for one trie");
        return -1;
    }
    int ok = 0;
    int32_t *parent = malloc(sizeof(int32_t) * total), *path = malloc(sizeof(int32_t) * (total + 1));
    int32_t *node_form = malloc(sizeof(int32_t) * total), *n_children = calloc(total, sizeof(int32_t));
    int32_t *first_child = malloc(sizeof(int32_t) * total), *new_id = malloc(sizeof(int32_t) * total);
    int32_t *owner = malloc(sizeof(int32_t) * total), *fill = NULL; /* owner: the labelled node ending here */
    uint8_t *byte = malloc(total);
    uint8_t *end_word = calloc(s->n_forms ? s->n_forms : 1, 1); /* per form: ends with a word character */
    s->labels = malloc(total);
    if (!parent || !path || !node_form || !n_children || !first_child || !new_id || !owner || !byte ||
        !end_word || !s->labels) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t nodes = 1;
    const uint8_t *previous = NULL;
    Py_ssize_t previous_len = 0;
    parent[0] = -1;
    node_form[0] = first_child[0] = -1;
    path[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int32_t form_id = refs[i].id;
        const uint8_t *f = refs[i].bytes;
        Py_ssize_t len = refs[i].len;
        Py_ssize_t common = 0;
        while (common < len && common < previous_len && f[common] == previous[common]) common++;
        if (previous && common == len) { /* sorted, so only a repeated form can be a prefix of the one before */
            PyErr_SetString(PyExc_ValueError, "the forms must be distinct");
            goto done;
        }
        for (Py_ssize_t depth = common; depth < len; depth++) {
            int32_t up = path[depth];
            if (n_children[up]++ == 0) first_child[up] = (int32_t)nodes;
            parent[nodes] = up;
            byte[nodes] = f[depth];
            node_form[nodes] = first_child[nodes] = -1;
            path[depth + 1] = (int32_t)nodes++;
        }
        node_form[path[len]] = (int32_t)form_id;
        end_word[form_id] = IS_WORD[f[len - 1]];
        previous = f;
        previous_len = len;
    }

    /* A node starts a labelled node when its parent branches or ends a form; its label runs down
     * the single children to the first node that branches or ends a form (its `owner` is then the
     * labelled node). */
    Py_ssize_t kept = 1, label_bytes = 0;
    owner[0] = 0;
    new_id[0] = 0;
    for (Py_ssize_t k = 1; k < nodes; k++) { /* `owner` holds the run length until it is needed */
        int32_t up = parent[k];
        int starts = up == 0 || n_children[up] != 1 || node_form[up] >= 0;
        owner[k] = starts ? 0 : owner[up] + 1;
        if (owner[k] == MAX_LABEL) owner[k] = 0, starts = 1;
        new_id[k] = starts ? (int32_t)kept++ : -1;
    }
    s->nodes = calloc(kept, sizeof(Node));
    s->edge_byte = malloc(kept);
    s->edge_node = malloc(sizeof(int32_t) * kept);
    fill = calloc(kept + 1, sizeof(int32_t));
    if (!s->nodes || !s->edge_byte || !s->edge_node || !fill) {
        PyErr_NoMemory();
        goto done;
    }
    s->n_nodes = kept;
    s->nodes[0].form = -1;
    for (Py_ssize_t k = 1; k < nodes; k++) {
        if (new_id[k] < 0) continue;
        Node *nd = &s->nodes[new_id[k]];
        int32_t end = (int32_t)k;
        nd->label = (int32_t)label_bytes;
        s->labels[label_bytes++] = byte[end];
        while (n_children[end] == 1 && node_form[end] < 0 && new_id[first_child[end]] < 0) {
            end = first_child[end];
            s->labels[label_bytes++] = byte[end];
        }
        nd->label_len = (uint16_t)(label_bytes - nd->label);
        nd->form = node_form[end];
        nd->kind = nd->form >= 0 && end_word[nd->form] ? END_WORD : 0;
        owner[end] = new_id[k];
    }
    owner[0] = 0;
    /* edges: the children of a labelled node are those of the node its label ends at */
    for (Py_ssize_t k = 1; k < nodes; k++)
        if (new_id[k] >= 0) fill[owner[parent[k]] + 1]++;
    Py_ssize_t dense_rows = 0;
    for (Py_ssize_t k = 0; k < kept; k++) {
        Node *nd = &s->nodes[k];
        int32_t children = fill[k + 1];
        fill[k + 1] += fill[k];
        int kind = children == 0 ? LEAF : children == 1 ? ONE : children >= DENSE_CHILDREN ? DENSE : SPARSE;
        nd->kind |= kind;
        nd->last_edge = (uint8_t)(children ? children - 1 : 0);
        nd->next = kind == DENSE ? (int32_t)dense_rows++ : fill[k];
    }
    s->dense = malloc(sizeof(int32_t) * 256 * (dense_rows ? dense_rows : 1));
    if (!s->dense) {
        PyErr_NoMemory();
        goto done;
    }
    memset(s->dense, 0xff, sizeof(int32_t) * 256 * dense_rows); /* -1 everywhere */
    for (Py_ssize_t k = 1; k < nodes; k++) {
        if (new_id[k] < 0) continue;
        Node *up = &s->nodes[owner[parent[k]]];
        int32_t e = fill[owner[parent[k]]]++, id = new_id[k];
        s->edge_byte[e] = byte[k];
        s->edge_node[e] = id;
        if ((up->kind & KIND) == ONE) up->next = id;
        if ((up->kind & KIND) == DENSE) s->dense[(size_t)up->next * 256 + byte[k]] = id;
    }
    for (int c = 0; c < 256; c++) {
        s->map[c] = (uint8_t)(s->lowercase && c >= 'A' && c <= 'Z' ? c + 32 : s->fold_whitespace && IS_SPACE[c] ? ' ' : c);
        s->root[c] = child(s, 0, s->map[c]);
        s->starts[c] = (uint8_t)(IS_WORD[c] | (s->root[c] >= 0 ? 2 : 0));
    }
    ok = 1;
done:
    Py_DECREF(fast);
    free(refs);
    free(parent); free(path); free(node_form); free(n_children); free(first_child); free(new_id);
    free(owner); free(fill); free(byte); free(end_word);
    return ok ? 0 : -1;
}

/* Scanner(forms, form_entities, n_entities, pair_subjects, pair_objects, word_boundaries, lowercase,
 *         fold_whitespace): a TermIndex's fields (pairs split into subjects and objects). */
static int scanner_init(Scanner *s, PyObject *args, PyObject *kwds) {
    PyObject *forms, *form_entities, *pair_subjects, *pair_objects;
    Py_ssize_t n_forms_total, n_entities;
    static char *kwlist[] = {"forms", "form_entities", "n_entities", "pair_subjects", "pair_objects",
                             "word_boundaries", "lowercase", "fold_whitespace", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOnOOppp", kwlist, &forms, &form_entities,
                                     &n_entities, &pair_subjects, &pair_objects, &s->word_boundaries,
                                     &s->lowercase, &s->fold_whitespace))
        return -1;
    scanner_free_arrays(s);
    memset(&s->nodes, 0, sizeof(Scanner) - offsetof(Scanner, nodes));
    n_forms_total = PySequence_Size(form_entities);
    if (n_forms_total < 0) return -1;
    s->n_forms = n_forms_total;
    s->n_entities = n_entities;

    if (build_trie(s, forms) < 0) return -1;

    /* form -> entities, and subject entity -> (pair, object) */
    PyObject *fe = PySequence_Fast(form_entities, "form_entities must be a sequence");
    if (!fe) return -1;
    if (PySequence_Fast_GET_SIZE(fe) != n_forms_total) {
        Py_DECREF(fe);
        PyErr_SetString(PyExc_ValueError, "form_entities must hold one list per form");
        return -1;
    }
    s->form_entity_start = malloc(sizeof(int32_t) * (n_forms_total + 1));
    Py_ssize_t n_links = 0;
    for (Py_ssize_t i = 0; i < n_forms_total; i++) {
        Py_ssize_t size = PySequence_Size(PySequence_Fast_GET_ITEM(fe, i));
        if (size < 0) { Py_DECREF(fe); return -1; }
        n_links += size;
    }
    s->form_entity = malloc(sizeof(int32_t) * (n_links ? n_links : 1));
    if (!s->form_entity_start || !s->form_entity) { Py_DECREF(fe); goto nomem; }
    n_links = 0;
    for (Py_ssize_t i = 0; i < n_forms_total; i++) {
        Py_ssize_t size;
        int32_t *ids = int_array(PySequence_Fast_GET_ITEM(fe, i), &size, "form_entities must hold lists");
        if (!ids) { Py_DECREF(fe); return -1; }
        s->form_entity_start[i] = (int32_t)n_links;
        for (Py_ssize_t k = 0; k < size; k++) {
            if (ids[k] < 0 || ids[k] >= n_entities) {
                free(ids); Py_DECREF(fe);
                PyErr_SetString(PyExc_ValueError, "an entity id is out of range");
                return -1;
            }
            s->form_entity[n_links++] = ids[k];
        }
        free(ids);
    }
    s->form_entity_start[n_forms_total] = (int32_t)n_links;
    Py_DECREF(fe);

    Py_ssize_t n_pairs, n_objects;
    int32_t *subjects = int_array(pair_subjects, &n_pairs, "pair_subjects must be a sequence");
    if (!subjects) return -1;
    int32_t *objects = int_array(pair_objects, &n_objects, "pair_objects must be a sequence");
    if (!objects) { free(subjects); return -1; }
    if (n_objects != n_pairs) {
        free(subjects); free(objects);
        PyErr_SetString(PyExc_ValueError, "pair_subjects and pair_objects differ in length");
        return -1;
    }
    s->n_pairs = n_pairs;
    s->entities = calloc(n_entities ? n_entities : 1, sizeof(Entity));
    s->subject_pairs = malloc(sizeof(PairOf) * (n_pairs ? n_pairs : 1));
    int32_t *fill = calloc(n_entities + 1, sizeof(int32_t));
    if (!s->entities || !s->subject_pairs || !fill) {
        free(subjects); free(objects); free(fill); goto nomem;
    }
    for (Py_ssize_t p = 0; p < n_pairs; p++) {
        if (subjects[p] < 0 || subjects[p] >= n_entities || objects[p] < 0 || objects[p] >= n_entities) {
            free(subjects); free(objects); free(fill);
            PyErr_SetString(PyExc_ValueError, "a pair's entity id is out of range");
            return -1;
        }
        fill[subjects[p] + 1]++;
    }
    for (Py_ssize_t e = 0; e < n_entities; e++) {
        fill[e + 1] += fill[e];
        s->entities[e].pairs = fill[e];
        s->entities[e].pairs_end = fill[e + 1];
    }
    for (Py_ssize_t p = 0; p < n_pairs; p++) {
        int32_t slot = fill[subjects[p]]++;
        s->subject_pairs[slot].pair = (int32_t)p;
        s->subject_pairs[slot].object = objects[p];
    }
    free(fill); free(subjects); free(objects);

    for (Py_ssize_t k = 0; k < s->n_nodes; k++) { /* a form of one entity names it in its node */
        Node *nd = &s->nodes[k];
        if (nd->form < 0) continue;
        int32_t start = s->form_entity_start[nd->form], end = s->form_entity_start[nd->form + 1];
        nd->form = end - start == 1 ? s->form_entity[start] : -2 - nd->form;
    }
    s->found = malloc(sizeof(int32_t) * (n_entities ? n_entities : 1));
    s->pair_counts = calloc(n_pairs ? n_pairs : 1, sizeof(uint32_t));
    s->entity_totals = calloc(n_entities ? n_entities : 1, sizeof(int64_t));
    s->pair_totals = calloc(n_pairs ? n_pairs : 1, sizeof(int64_t));
    if (!s->found || !s->pair_counts || !s->entity_totals || !s->pair_totals) goto nomem;
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

/* Add the uint32 counts since the last flush to the int64 totals. */
static void flush(Scanner *s) {
    for (Py_ssize_t e = 0; e < s->n_entities; e++) {
        s->entity_totals[e] += s->entities[e].count;
        s->entities[e].count = 0;
    }
    for (Py_ssize_t p = 0; p < s->n_pairs; p++) s->pair_totals[p] += s->pair_counts[p];
    memset(s->pair_counts, 0, sizeof(uint32_t) * s->n_pairs);
    s->since_flush = 0;
}

/* count(text) -> entities found in the text, or -1 when it is not ASCII (count it with Matcher). */
static PyObject *scanner_count(Scanner *s, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "count() needs a str");
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) return NULL;
#endif
    if (!PyUnicode_IS_ASCII(text)) return PyLong_FromLong(-1);
    const uint8_t *t = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), n_found = 0;
    if (s->since_flush++ == FLUSH_EVERY) flush(s);
    if (++s->document == 0) { /* the document numbers wrapped around: forget what was seen */
        for (Py_ssize_t e = 0; e < s->n_entities; e++) s->entities[e].seen = 0;
        s->document = 1;
    }
    const uint32_t doc = s->document;
    const int boundaries = s->word_boundaries, fold = s->fold_whitespace;
    const uint8_t *map = s->map;
    int previous_word = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        /* a form that begins with a word character starts a match only at a word start; the test is
         * one table load and one rarely taken branch (most bytes start no form), marked as such:
         * the compiler then lays the skip out as the straight path (8-20% less time on the bench
         * corpus, and ~10% more for one table instead of two) */
        int x = s->starts[t[i]], blocked = ((x ^ 2) & 2) | (boundaries & x & previous_word);
        previous_word = x & 1;
        if (__builtin_expect(blocked, 1)) continue;
        int32_t node = s->root[t[i]];
        Py_ssize_t j = i; /* the text byte that the node's label starts at */
        while (node >= 0) {
            const Node *nd = &s->nodes[node];
            const uint8_t *label = s->labels + nd->label;
            int32_t k = 0;
            for (; k < nd->label_len && j < n && map[t[j]] == label[k]; k++) {
                if (fold && label[k] == ' ') /* a run of whitespace is one space */
                    while (j + 1 < n && IS_SPACE[t[j + 1]]) j++;
                j++;
            }
            if (k < nd->label_len) break;
            int32_t hit = nd->form;
            if (hit != -1 && !(boundaries && (nd->kind & END_WORD) && j < n && IS_WORD[t[j]])) {
                /* a form found again in this document finds its entities seen already */
                const int32_t *ids = &hit, *ids_end = &hit + 1;
                if (hit < 0) {
                    ids = s->form_entity + s->form_entity_start[-2 - hit];
                    ids_end = s->form_entity + s->form_entity_start[-1 - hit];
                }
                for (; ids < ids_end; ids++) {
                    Entity *entity = &s->entities[*ids];
                    if (entity->seen != doc) {
                        entity->seen = doc;
                        entity->count++;
                        s->found[n_found++] = *ids;
                    }
                }
            }
            if (j >= n) break;
            node = child(s, node, map[t[j]]);
        }
    }
    for (Py_ssize_t k = 0; k < n_found; k++) {
        const Entity *subject = &s->entities[s->found[k]];
        for (int32_t p = subject->pairs; p < subject->pairs_end; p++)
            if (s->entities[s->subject_pairs[p].object].seen == doc) s->pair_counts[s->subject_pairs[p].pair]++;
    }
    return PyLong_FromSsize_t(n_found);
}

/* take() -> (entity counts, pair counts) as int64 bytes, and the counts start again from zero. */
static PyObject *scanner_take(Scanner *s, PyObject *Py_UNUSED(ignored)) {
    flush(s);
    PyObject *entities = PyBytes_FromStringAndSize((const char *)s->entity_totals, sizeof(int64_t) * s->n_entities);
    PyObject *pairs = PyBytes_FromStringAndSize((const char *)s->pair_totals, sizeof(int64_t) * s->n_pairs);
    if (!entities || !pairs) { Py_XDECREF(entities); Py_XDECREF(pairs); return NULL; }
    memset(s->entity_totals, 0, sizeof(int64_t) * s->n_entities);
    memset(s->pair_totals, 0, sizeof(int64_t) * s->n_pairs);
    return Py_BuildValue("(NN)", entities, pairs);
}

static PyMethodDef scanner_methods[] = {
    {"count", (PyCFunction)scanner_count, METH_O,
     "count(text) -> entities found, or -1 when the text is not ASCII (nothing is counted then)"},
    {"take", (PyCFunction)scanner_take, METH_NOARGS,
     "take() -> (entity counts, pair counts) as int64 bytes since the last take; resets them"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "freq_unlearn.frequency_index._ascii_count.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Document counts of entities and pairs over ASCII texts (see the module docstring).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)scanner_init,
    .tp_dealloc = (destructor)scanner_dealloc,
    .tp_methods = scanner_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_ascii_count",
    .m_doc = "The scan backend's per-document counting for ASCII texts, in compiled code.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__ascii_count(void) {
    init_tables();
    if (PyType_Ready(&ScannerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
