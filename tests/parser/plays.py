"""Small hand-written plays in the layouts the offline parser reads, one per convention."""

from __future__ import annotations

# German, speaker alone on a line in capitals with a period, directions in [brackets], a title
# page and a cast list whose first two entries share the description printed below them.
LESSING = """\
DIE PROBE
Ein Lustspiel in zwei Aufzügen
von Anna Beispiel


Personen.
  Odoardo,
  Claudia,
    (Eltern der Emilia.)
  Hettore Gonzaga, Prinz von Guastalla.
  Marinelli, Kammerherr des Prinzen.
  Angelo.


Erster Aufzug

    Die Szene, ein Kabinett des Prinzen.

Erster Auftritt

DER PRINZ.
    [an einem Arbeitstische, voller Briefschaften und Papiere, deren
    einige er durchläuft.]
Klagen, nichts als Klagen! Bittschriften, nichts als Bittschriften! Die
traurigen Geschäfte; und man beneidet uns noch!
    [Er klingelt.]
Ist Marinelli da?

MARINELLI.
Hier, gnädigster Herr.

Zweiter Auftritt

ODOARDO.
[Aside] Er sieht mich nicht.

CLAUDIA.
Still!

Zweiter Aufzug

DER PRINZ.
Und nun?
"""

# German, "NAME. text" on one line, the speech's later lines indented; no cast list.
WEDEKIND = """\
Erster Akt

Erste Szene

        [Wohnzimmer.]

WENDLA. Warum hast du mir das Kleid so lang gemacht, Mutter?

FRAU BERGMANN. Du wirst vierzehn Jahr heute!

WENDLA. Hätt ich gewußt, daß du mir das Kleid so lang machen werdest,
    ich wäre lieber nicht vierzehn geworden.

FRAU BERGMANN [küßt sie]. Mein Kind!

WENDLA UND FRAU BERGMANN. Ach!

Zweite Szene

MELCHIOR. _Er tritt ein._ Guten Tag.
"""

# Russian, "NAME. text" with (parenthesised) directions after the label, a cast list.
CHEKHOV = """\
ЧАЙКА
Комедия в четырех действиях
by Антон Чехов


Действующие лица
  Ирина Николаевна Аркадина, актриса.
  Константин Гаврилович Треплев, ее сын.
  Маша, дочь управляющего.


Действие первое

Часть парка. Вечер.

МАША. Это траур по моей жизни. Я несчастна.

ТРЕПЛЕВ (входит). Скоро начало?

АРКАДИНА (сыну). Мой милый сын, когда начало?

МАША и ТРЕПЛЕВ. Сейчас!

Действие второе

АРКАДИНА. Жарко.
"""

# English Moby/MIT e-text: the label alone at the margin, speech and directions indented four
# spaces with blank lines between, a later paragraph of a speech opening with a direction.
MOBY = """\
ACT I
SCENE I. Athens. The palace of THESEUS.

    Enter THESEUS, HIPPOLYTA, PHILOSTRATE, and Attendants

THESEUS

    Go, Philostrate,
    Stir up the Athenian youth to merriments;
    The pale companion is not for our pomp.

    Exit PHILOSTRATE
    Hippolyta, I woo'd thee with my sword,
    And won thy love, doing thee injuries.

HIPPOLYTA

    Four days will quickly steep themselves in night.

First Fairy

    Over hill, over dale.

    Exeunt

SCENE II. A room in QUINCE's house.

    Enter QUINCE and BOTTOM

QUINCE

    Is all our company here?
"""

# French, "NAME : text" with a space before the colon, one speech per line, no blank lines.
MOLIERE = """\
Acte premier

Scène première

Un salon.

ÉLISE : Quoi ? Vous ne voulez pas ?
VALÈRE : Non, je ne veux pas, et je ne le voudrai jamais.
ÉLISE : Eh bien ! (Elle sort.)

Scène 2

VALÈRE : Seul enfin.
"""

# Spanish and Italian headings, "NAME: text" and "NAME. text".
ZORRILLA_GOLDONI = """\
Acto primero

Escena primera

DON JUAN: ¿Quién va?
DOÑA INÉS: Yo.

Atto secondo

Scena terza

ARLECCHINO. Eccomi.
"""
