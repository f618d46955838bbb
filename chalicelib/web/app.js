// Social media maturity check: the web questionnaire. Vanilla JS, no build step (docs/WEB.md).
//
// Every URL is relative to the page ("v1/...", "static/..."), so the page also works below an
// API Gateway stage prefix such as /api/. The result token only ever travels in a request
// header (X-Result-Token) and in the URL fragment (#result=...), never in a request URL.

const QUESTIONNAIRE_ID = 'smm';
const LANGS = ['de', 'en'];
const STORE_LANG = 'smm.lang';
const STORE_DRAFT = 'smm.draft';
const TIMEOUT_MS = 20000;
const SUBMIT_TIMEOUT_MS = 30000;
const SAVE_DELAY_MS = 800;
const SELECT_MIN_OPTIONS = 12; // more options than this: a <select> instead of radio buttons
const MAX_DURATION = 60 * 60 * 24 * 30;
const UNAVAILABLE = new Set([403, 404, 405, 501]); // route not (yet) deployed

// --- embed mode -----------------------------------------------------------------------------
// At /embed the server puts the partner's validated settings into <html data-embed="...">
// (chalicelib/embed.py): the embedding page's origin (the only target of postMessage and the
// only accepted sender of messages), the publishable key, prefill answers, the partner's
// reference id and its white label. A session client secret arrives in the URL fragment
// (#client_secret=...), is kept in memory only and removed from the address at once.
const EMBED_VERSION = 1;
const EMBED = readEmbed();
let embedSecret = null;
if (EMBED) {
  const m = /^#client_secret=([A-Za-z0-9_.-]{20,800})$/.exec(location.hash);
  if (m) embedSecret = m[1];
  if (location.hash) history.replaceState(null, '', `${location.pathname}${location.search}`);
}

function readEmbed() {
  const raw = document.documentElement.dataset.embed;
  if (!raw) return null;
  try {
    const c = JSON.parse(raw);
    return c && c.v === EMBED_VERSION && typeof c.parent_origin === 'string' ? c : null;
  } catch {
    return null;
  }
}

/** Send an event to the embedding page: {source, version, type, ...data}, to its origin only. */
function emit(type, data = {}) {
  if (!EMBED || window.parent === window) return;
  window.parent.postMessage({ source: 'smm-widget', version: EMBED_VERSION, type, ...data }, EMBED.parent_origin);
}

let lastHeight = 0;
function emitHeight(force = false) {
  const body = document.body;
  const style = getComputedStyle(body);
  const height = Math.ceil(body.getBoundingClientRect().height + parseFloat(style.marginTop) + parseFloat(style.marginBottom));
  if (!force && height === lastHeight) return;
  lastHeight = height;
  emit('height_changed', { height });
}

// --- texts ----------------------------------------------------------------------------------
const TEXT = {
  en: {
    brand: 'Social Media Maturity Check',
    skip: 'Skip to content',
    langGroup: 'Language',
    loading: 'Loading …',
    footer: 'Your answers are used only to calculate your results and – with your consent – as anonymised figures in the benchmark.',
    loadFailed: 'The questionnaire could not be loaded. Please check your connection and try again.',
    tryAgain: 'Try again',
    facts: (n, s, min) => `${n} questions in ${s} sections · about ${min} minutes`,
    whatYouGet: 'What you get',
    gets: [
      'Your phase on the engagement ladder (0–7) and what the next phase requires',
      'Your tier on the social business pyramid',
      'Scores in six areas, from strategy to sociability',
      'A comparison with similar organisations (anonymised benchmark)',
      'Ranked recommendations for your next steps',
    ],
    savedNote: 'Your answers are saved automatically as you go. You get a link to continue later – on any device.',
    savedNoteEmbed: 'Your answers are saved automatically in this browser as you go, so you can continue here later.',
    embedNoCredential: 'The questionnaire cannot be started here: this page did not pass its access code (the session may have expired). Please reload the page.',
    start: 'Start the questionnaire',
    continueDraft: 'Continue where you left off',
    sectionOf: (i, n) => `Section ${i} of ${n}`,
    progress: 'Progress',
    answeredOf: (a, n) => `${a} of ${n} questions answered`,
    allRequired: 'Please answer every question. If a question does not apply to you, choose “Don’t know / not applicable”: it is then left out of your scores, not counted as zero.',
    optional: '(optional)',
    choose: 'Please choose …',
    back: 'Back',
    next: 'Next',
    submit: 'Show my results',
    submitting: 'Calculating your results …',
    sections: 'All sections',
    sectionsDone: (a, n) => `${a} of ${n} answered`,
    currentSection: '(current section)',
    required: 'An answer is required',
    errorPrefix: 'Error:',
    errorSummary: (n) => (n === 1 ? '1 question needs your attention' : `${n} questions need your attention`),
    moreErrors: (n) => `… and ${n} more`,
    saving: 'Saving …',
    saved: (time) => `All answers saved (${time})`,
    saveFailed: 'Not saved yet: the server cannot be reached. Your answers stay in this window and we keep trying.',
    saveRejected: 'Your answers could not be saved. They stay in this window; please keep it open.',
    resumeTitle: 'Continue later',
    resumeText: (date) => `Your answers are saved automatically. With this link you can continue on any device until ${date}.`,
    resumeLinkLabel: 'Link to continue the questionnaire',
    copy: 'Copy link',
    copied: 'Link copied.',
    copyFailed: 'Copying did not work: please select the link and copy it.',
    draftResumed: 'Welcome back: your saved answers have been restored.',
    draftMissing: 'We could not find your saved answers: the link may have expired (answers are kept for 30 days) or may be incomplete. You can start again here.',
    draftLoadFailed: 'Your saved answers could not be loaded right now. Please check your connection and try again.',
    submitFailedTitle: 'Your results could not be calculated yet',
    submitNetwork: 'The server could not be reached. Your answers are kept – nothing is lost. Please check your connection and try again.',
    submitServer: 'Something went wrong on our side. Your answers are kept – nothing is lost. Please try again in a moment.',
    submitConflict: 'This submission clashed with an earlier attempt. Your answers are kept – please try again.',
    submitOther: 'Your answers could not be submitted. Your answers are kept.',
    resultTitle: 'Your results',
    resultDate: (d) => `Assessment of ${d}`,
    keepLinkTitle: 'Keep this link',
    keepLinkText: 'Keep this link: it is the only way back to your result. Anyone with the link can see the result, so share it only with people you trust.',
    resultLinkLabel: 'Link to your result',
    overall: 'Overall score',
    phaseCard: 'Engagement phase',
    tierCard: 'Pyramid tier reached',
    noTier: 'None yet',
    outOf: (s) => `${s} of 100`,
    noScore: 'no score (“don’t know” only)',
    ladderTitle: 'Engagement ladder',
    ladderIntro: 'The phases build on each other: you are placed on the highest phase whose criteria – and those of every phase below it – are met.',
    phaseN: (n) => `Phase ${n}`,
    yourPhase: 'your phase',
    criteriaMet: 'criteria met',
    metAbove: (list) => `The criteria of phase ${list} are met as well, but not those of every phase below: close those gaps first and you move up quickly.`,
    nextTitle: (n, name) => `What phase ${n} (${name}) requires`,
    nextIntro: 'These questions decide whether you reach the next phase:',
    topPhase: 'You have reached the highest phase.',
    pyramidTitle: 'Social business pyramid',
    pyramidIntro: (t) => `A tier counts as reached when it and every tier beneath it score at least ${t} of 100.`,
    pyramidIntro2: (t) => `A tier counts as reached when it and every tier beneath it score at least ${t} of 100 and have their named needs in place.`,
    reachedTier: (name) => `Tier reached: ${name}`,
    noTierReached: 'No tier reached yet: start with the foundation.',
    blockedBy: (name) => `Blocked by ${name}: higher tiers already score enough, but they only count once ${name} is in place.`,
    tierMet: 'met',
    tierNotMet: 'not met',
    tierReached: 'reached',
    legend: 'Legend',
    legendYourPhase: 'your phase',
    legendBelow: 'phases below yours',
    legendMetAbove: 'criteria met above your phase',
    legendReached: 'reached',
    legendMetNotCounted: 'score high enough, not counted yet',
    legendBlocking: 'blocks the tiers above',
    legendOpen: 'below the threshold',
    dimsTitle: 'Six areas',
    dimsIntro: 'Scores from 0 to 100 in each area of your social media work.',
    radarLabel: (list) => `Radar chart of the six areas, scores from 0 to 100: ${list}`,
    chartFailed: 'The chart could not be displayed; the figures are listed here.',
    benchTitle: 'How you compare',
    benchLoading: 'Loading the comparison …',
    benchUnavailable: 'The comparison with other organisations is not available yet. Your own results on this page are complete.',
    benchFailed: 'The comparison could not be loaded right now.',
    benchBelow: (k) => `There are not yet enough comparable organisations to show a comparison. To protect their anonymity, figures are only shown for groups of at least ${k} organisations.`,
    benchNoData: 'There is no benchmark data for your group yet.',
    benchNotAssessable: 'Your result cannot be assessed, so there is nothing to compare yet.',
    cohort: (label, n) => `Compared with: ${label} (n\u00a0=\u00a0${n})`,
    cohortAll: 'all organisations',
    population: 'Peers:',
    populationToAll: 'Compare with all organisations, including those without social media',
    populationToUsers: 'Compare only with organisations that use social media',
    allRegions: 'all regions',
    regions: {
      dach: 'Germany, Austria, Switzerland, Liechtenstein',
      western_europe: 'Western Europe',
      northern_europe: 'Northern Europe',
      southern_europe: 'Southern Europe',
      eastern_europe: 'Eastern Europe',
      north_america: 'North America',
      latin_america: 'Latin America',
      asia_pacific: 'Asia-Pacific',
      middle_east_africa: 'Middle East and Africa',
      other: 'other countries',
    },
    source: 'Data source:',
    sourceReal: 'real submissions',
    sourceRef: 'reference (synthetic)',
    refNote: 'These figures come from a synthetic reference group, not from real organisations. They show how the comparison works until enough real submissions are available.',
    months: (a, b) => `Submissions from ${a} to ${b}`,
    percentileAxis: 'Percentile rank: share of the group with a lower score',
    benchChartLabel: (list) => `Bar chart of your percentile ranks in the group (0 to 100): ${list}`,
    colMetric: 'Metric',
    colValue: 'Your value',
    colPercentile: 'Percentile rank',
    colMedian: 'Median',
    colTop: 'Top quartile from',
    tableView: 'Show the figures as a table',
    notReleased: 'not released',
    included: 'Your anonymised scores are included in the benchmark.',
    excluded: 'Your answers are not included in the benchmark:',
    reasons: {
      'no-consent': 'you did not consent to it',
      'implausibly-fast': 'the questionnaire was completed unusually fast',
      'straight-lining': 'almost all answers were given in the same position',
      'mostly-dont-know': 'most questions were answered with “don’t know”',
      'contradictory-answers': 'some answers contradict each other',
    },
    recsTitle: 'Recommended next steps',
    recsIntro: 'In order of priority: first the gaps of your next phase, then of the lowest pyramid tier not yet reached, then of your weakest area.',
    recsIntro2: 'In order of priority: what stands between you and your next phase and your next pyramid tier – the foundation first while you are at phase 1 or below.',
    recsNone: 'No open recommendations – well done.',
    targetPhase: (n, name) => `Phase ${n}: ${name}`,
    targetTier: (name) => `Pyramid: ${name}`,
    targetDim: (name) => `Area: ${name}`,
    targetCampaign: 'Campaign lesson (Coles, Deutsche Bahn)',
    notAssessable: 'not assessable',
    notAssessableAll: 'Not assessable: the answers are enough neither for the engagement phase nor for the pyramid.',
    tierNotAssessable: 'not assessable',
    phaseEvidence: 'What your answers show for this phase:',
    pyramidNotAssessable: 'The pyramid cannot be assessed: too many foundation questions are answered “don’t know”.',
    question: 'Question:',
    report: 'Download report (PDF)',
    reportLoading: 'Preparing the report …',
    reportDone: 'The report has been downloaded.',
    reportUnavailable: 'The PDF report is not available yet.',
    reportFailed: 'The report could not be downloaded. Please try again.',
    newAssessment: 'Start a new assessment',
    resultMissing: 'This result link is not valid, or the result has been deleted. Please check that you copied the whole link.',
    resultLoadFailed: 'Your result could not be loaded right now. Please check your connection and try again.',
  },
  de: {
    brand: 'Social-Media-Reifegrad-Check',
    skip: 'Zum Inhalt springen',
    langGroup: 'Sprache',
    loading: 'Wird geladen …',
    footer: 'Ihre Antworten werden nur zur Berechnung Ihrer Ergebnisse verwendet und – mit Ihrer Einwilligung – anonymisiert im Benchmark.',
    loadFailed: 'Der Fragebogen konnte nicht geladen werden. Bitte prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
    tryAgain: 'Erneut versuchen',
    facts: (n, s, min) => `${n} Fragen in ${s} Abschnitten · etwa ${min} Minuten`,
    whatYouGet: 'Was Sie erhalten',
    gets: [
      'Ihre Phase auf der Engagement-Leiter (0–7) und was die nächste Phase verlangt',
      'Ihre Ebene in der Social-Business-Pyramide',
      'Punktwerte in sechs Handlungsfeldern, von Strategie bis Sociability',
      'Einen Vergleich mit ähnlichen Organisationen (anonymisierter Benchmark)',
      'Priorisierte Empfehlungen für Ihre nächsten Schritte',
    ],
    savedNote: 'Ihre Antworten werden laufend automatisch gespeichert. Sie erhalten einen Link, mit dem Sie später weitermachen können – auf jedem Gerät.',
    savedNoteEmbed: 'Ihre Antworten werden laufend automatisch in diesem Browser gespeichert, damit Sie später hier weitermachen können.',
    embedNoCredential: 'Der Fragebogen kann hier nicht gestartet werden: Diese Seite hat ihren Zugangscode nicht übergeben (vielleicht ist die Sitzung abgelaufen). Bitte laden Sie die Seite neu.',
    start: 'Fragebogen starten',
    continueDraft: 'Dort weitermachen, wo Sie aufgehört haben',
    sectionOf: (i, n) => `Abschnitt ${i} von ${n}`,
    progress: 'Fortschritt',
    answeredOf: (a, n) => `${a} von ${n} Fragen beantwortet`,
    allRequired: 'Bitte beantworten Sie jede Frage. Trifft eine Frage auf Sie nicht zu, wählen Sie „Weiß nicht / trifft nicht zu“: Sie fließt dann nicht in Ihre Werte ein – auch nicht als null.',
    optional: '(optional)',
    choose: 'Bitte wählen …',
    back: 'Zurück',
    next: 'Weiter',
    submit: 'Ergebnisse anzeigen',
    submitting: 'Ihre Ergebnisse werden berechnet …',
    sections: 'Alle Abschnitte',
    sectionsDone: (a, n) => `${a} von ${n} beantwortet`,
    currentSection: '(aktueller Abschnitt)',
    required: 'Eine Antwort ist erforderlich',
    errorPrefix: 'Fehler:',
    errorSummary: (n) => (n === 1 ? '1 Frage braucht Ihre Aufmerksamkeit' : `${n} Fragen brauchen Ihre Aufmerksamkeit`),
    moreErrors: (n) => `… und ${n} weitere`,
    saving: 'Wird gespeichert …',
    saved: (time) => `Alle Antworten gespeichert (${time} Uhr)`,
    saveFailed: 'Noch nicht gespeichert: Der Server ist nicht erreichbar. Ihre Antworten bleiben in diesem Fenster erhalten, wir versuchen es weiter.',
    saveRejected: 'Ihre Antworten konnten nicht gespeichert werden. Sie bleiben in diesem Fenster erhalten; bitte lassen Sie es geöffnet.',
    resumeTitle: 'Später weitermachen',
    resumeText: (date) => `Ihre Antworten werden automatisch gespeichert. Mit diesem Link können Sie bis zum ${date} auf jedem Gerät weitermachen.`,
    resumeLinkLabel: 'Link zum Weitermachen',
    copy: 'Link kopieren',
    copied: 'Link kopiert.',
    copyFailed: 'Das Kopieren hat nicht geklappt: Bitte markieren und kopieren Sie den Link selbst.',
    draftResumed: 'Willkommen zurück: Ihre gespeicherten Antworten wurden wiederhergestellt.',
    draftMissing: 'Ihre gespeicherten Antworten wurden nicht gefunden: Der Link ist vielleicht abgelaufen (Antworten werden 30 Tage aufbewahrt) oder unvollständig. Sie können hier neu beginnen.',
    draftLoadFailed: 'Ihre gespeicherten Antworten konnten gerade nicht geladen werden. Bitte prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
    submitFailedTitle: 'Ihre Ergebnisse konnten noch nicht berechnet werden',
    submitNetwork: 'Der Server war nicht erreichbar. Ihre Antworten bleiben erhalten – es geht nichts verloren. Bitte prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
    submitServer: 'Bei uns ist etwas schiefgelaufen. Ihre Antworten bleiben erhalten – es geht nichts verloren. Bitte versuchen Sie es gleich noch einmal.',
    submitConflict: 'Diese Übermittlung kollidierte mit einem früheren Versuch. Ihre Antworten bleiben erhalten – bitte versuchen Sie es erneut.',
    submitOther: 'Ihre Antworten konnten nicht übermittelt werden. Ihre Antworten bleiben erhalten.',
    resultTitle: 'Ihre Ergebnisse',
    resultDate: (d) => `Auswertung vom ${d}`,
    keepLinkTitle: 'Bewahren Sie diesen Link auf',
    keepLinkText: 'Bewahren Sie diesen Link auf: Nur mit ihm kommen Sie zu Ihrem Ergebnis zurück. Wer den Link hat, kann das Ergebnis sehen – geben Sie ihn nur an Personen weiter, denen Sie vertrauen.',
    resultLinkLabel: 'Link zu Ihrem Ergebnis',
    overall: 'Gesamtwert',
    phaseCard: 'Engagement-Phase',
    tierCard: 'Erreichte Pyramidenebene',
    noTier: 'Noch keine',
    outOf: (s) => `${s} von 100`,
    noScore: 'kein Wert (nur „Weiß nicht“)',
    ladderTitle: 'Engagement-Leiter',
    ladderIntro: 'Die Phasen bauen aufeinander auf: Sie stehen auf der höchsten Phase, deren Kriterien – und die aller Phasen darunter – erfüllt sind.',
    phaseN: (n) => `Phase ${n}`,
    yourPhase: 'Ihre Phase',
    criteriaMet: 'Kriterien erfüllt',
    metAbove: (list) => `Auch die Kriterien von Phase ${list} sind erfüllt, aber nicht die aller Phasen darunter: Schließen Sie zuerst diese Lücken, dann steigen Sie schnell auf.`,
    nextTitle: (n, name) => `Was Phase ${n} (${name}) verlangt`,
    nextIntro: 'Diese Fragen entscheiden, ob Sie die nächste Phase erreichen:',
    topPhase: 'Sie haben die höchste Phase erreicht.',
    pyramidTitle: 'Social-Business-Pyramide',
    pyramidIntro: (t) => `Eine Ebene gilt als erreicht, wenn sie und alle Ebenen darunter mindestens ${t} von 100 Punkten erzielen.`,
    pyramidIntro2: (t) => `Eine Ebene gilt als erreicht, wenn sie und alle Ebenen darunter mindestens ${t} von 100 Punkten erzielen und ihre Grundvoraussetzungen erfüllt sind.`,
    reachedTier: (name) => `Erreichte Ebene: ${name}`,
    noTierReached: 'Noch keine Ebene erreicht: Beginnen Sie mit dem Fundament.',
    blockedBy: (name) => `Blockiert durch ${name}: Höhere Ebenen erzielen bereits genug Punkte, zählen aber erst, wenn ${name} erfüllt ist.`,
    tierMet: 'erfüllt',
    tierNotMet: 'nicht erfüllt',
    tierReached: 'erreicht',
    legend: 'Legende',
    legendYourPhase: 'Ihre Phase',
    legendBelow: 'Phasen unter Ihrer',
    legendMetAbove: 'Kriterien oberhalb Ihrer Phase erfüllt',
    legendReached: 'erreicht',
    legendMetNotCounted: 'genug Punkte, zählt noch nicht',
    legendBlocking: 'blockiert die Ebenen darüber',
    legendOpen: 'unter der Schwelle',
    dimsTitle: 'Sechs Handlungsfelder',
    dimsIntro: 'Punktwerte von 0 bis 100 in jedem Feld Ihrer Social-Media-Arbeit.',
    radarLabel: (list) => `Netzdiagramm der sechs Handlungsfelder, Punktwerte von 0 bis 100: ${list}`,
    chartFailed: 'Das Diagramm konnte nicht angezeigt werden; die Werte stehen hier.',
    benchTitle: 'Im Vergleich',
    benchLoading: 'Vergleich wird geladen …',
    benchUnavailable: 'Der Vergleich mit anderen Organisationen ist noch nicht verfügbar. Ihre eigenen Ergebnisse auf dieser Seite sind vollständig.',
    benchFailed: 'Der Vergleich konnte gerade nicht geladen werden.',
    benchBelow: (k) => `Es gibt noch nicht genug vergleichbare Organisationen für einen Vergleich. Zum Schutz ihrer Anonymität zeigen wir Werte nur für Gruppen mit mindestens ${k} Organisationen.`,
    benchNoData: 'Für Ihre Vergleichsgruppe liegen noch keine Benchmark-Daten vor.',
    benchNotAssessable: 'Ihr Ergebnis ist nicht beurteilbar, daher gibt es noch nichts zu vergleichen.',
    cohort: (label, n) => `Verglichen mit: ${label} (n\u00a0=\u00a0${n})`,
    cohortAll: 'allen Organisationen',
    population: 'Vergleichsgruppe:',
    populationToAll: 'Mit allen Organisationen vergleichen, auch ohne Social-Media-Nutzung',
    populationToUsers: 'Nur mit Organisationen vergleichen, die soziale Medien nutzen',
    allRegions: 'alle Regionen',
    regions: {
      dach: 'Deutschland, Österreich, Schweiz, Liechtenstein',
      western_europe: 'Westeuropa',
      northern_europe: 'Nordeuropa',
      southern_europe: 'Südeuropa',
      eastern_europe: 'Osteuropa',
      north_america: 'Nordamerika',
      latin_america: 'Lateinamerika',
      asia_pacific: 'Asien-Pazifik',
      middle_east_africa: 'Naher Osten und Afrika',
      other: 'andere Länder',
    },
    source: 'Datenquelle:',
    sourceReal: 'echte Teilnahmen',
    sourceRef: 'Referenz (synthetisch)',
    refNote: 'Diese Werte stammen aus einer synthetischen Referenzgruppe, nicht von echten Organisationen. Sie zeigen, wie der Vergleich funktioniert, bis genug echte Teilnahmen vorliegen.',
    months: (a, b) => `Teilnahmen von ${a} bis ${b}`,
    percentileAxis: 'Perzentilrang: Anteil der Gruppe mit niedrigerem Wert',
    benchChartLabel: (list) => `Balkendiagramm Ihrer Perzentilränge in der Vergleichsgruppe (0 bis 100): ${list}`,
    colMetric: 'Kennzahl',
    colValue: 'Ihr Wert',
    colPercentile: 'Perzentilrang',
    colMedian: 'Median',
    colTop: 'Oberes Quartil ab',
    tableView: 'Werte als Tabelle anzeigen',
    notReleased: 'nicht freigegeben',
    included: 'Ihre anonymisierten Werte fließen in den Benchmark ein.',
    excluded: 'Ihre Antworten fließen nicht in den Benchmark ein:',
    reasons: {
      'no-consent': 'Sie haben nicht eingewilligt',
      'implausibly-fast': 'der Fragebogen wurde ungewöhnlich schnell ausgefüllt',
      'straight-lining': 'fast alle Antworten stehen an derselben Position',
      'mostly-dont-know': 'die meisten Fragen wurden mit „Weiß nicht“ beantwortet',
      'contradictory-answers': 'einige Antworten widersprechen sich',
    },
    recsTitle: 'Empfohlene nächste Schritte',
    recsIntro: 'Nach Priorität: zuerst die Lücken Ihrer nächsten Phase, dann die der untersten noch nicht erreichten Pyramidenebene, dann die Ihres schwächsten Handlungsfelds.',
    recsIntro2: 'Nach Priorität: was Sie von Ihrer nächsten Phase und Ihrer nächsten Pyramidenebene trennt – solange Sie in Phase 1 oder darunter stehen, zuerst das Fundament.',
    recsNone: 'Keine offenen Empfehlungen – sehr gut.',
    targetPhase: (n, name) => `Phase ${n}: ${name}`,
    targetTier: (name) => `Pyramide: ${name}`,
    targetDim: (name) => `Handlungsfeld: ${name}`,
    targetCampaign: 'Lehre aus Kampagnen (Coles, Deutsche Bahn)',
    notAssessable: 'nicht beurteilbar',
    notAssessableAll: 'Nicht beurteilbar: Die Antworten reichen weder für die Engagement-Phase noch für die Pyramide aus.',
    tierNotAssessable: 'nicht beurteilbar',
    phaseEvidence: 'Was Ihre Antworten für diese Phase zeigen:',
    pyramidNotAssessable: 'Die Pyramide ist nicht beurteilbar: Zu viele Fragen des Fundaments sind mit „Weiß nicht“ beantwortet.',
    question: 'Frage:',
    report: 'Bericht herunterladen (PDF)',
    reportLoading: 'Bericht wird erstellt …',
    reportDone: 'Der Bericht wurde heruntergeladen.',
    reportUnavailable: 'Der PDF-Bericht ist noch nicht verfügbar.',
    reportFailed: 'Der Bericht konnte nicht heruntergeladen werden. Bitte versuchen Sie es erneut.',
    newAssessment: 'Neue Bewertung starten',
    resultMissing: 'Dieser Ergebnis-Link ist ungültig, oder das Ergebnis wurde gelöscht. Bitte prüfen Sie, ob Sie den ganzen Link kopiert haben.',
    resultLoadFailed: 'Ihr Ergebnis konnte gerade nicht geladen werden. Bitte prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
  },
};

// --- state ----------------------------------------------------------------------------------
const state = {
  lang: 'en',
  view: 'boot', // intro | form | result | message
  q: null, // the questionnaire in the current language
  index: new Map(), // question id -> {question, section, number}
  section: 0,
  answers: {},
  errors: {}, // question id -> message
  generalErrors: [], // messages not tied to a question
  startedAt: Date.now(),
  submission: null, // {key, body}: kept for retries so a retry is byte-identical
  submitting: false,
  submitFailure: null, // {message}
  draft: { id: null, expiresAt: null, timer: null, saving: false, dirty: false, failures: 0, status: 'idle', disabled: false },
  result: null, // {id, token, data, fresh}
  charts: [],
  population: 'users', // peers: organisations that use social media (default) or all
  seq: 0, // increases on each navigation: late answers of older requests are dropped
  brand: null, // the partner's white label (embed mode, or a partner's result)
  emitted: { ready: false, section: -1 },
};
const qCache = new Map();

const t = () => TEXT[state.lang];
const $ = (sel, root = document) => root.querySelector(sel);

// --- small helpers --------------------------------------------------------------------------
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && (tag === 'input' || tag === 'select')) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function capitalise(s) {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

function formatDate(iso, withTime = false) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const opts = withTime ? { dateStyle: 'long', timeStyle: 'short' } : { dateStyle: 'long' };
  return new Intl.DateTimeFormat(state.lang === 'de' ? 'de-DE' : 'en-GB', opts).format(d);
}

function formatTime(d) {
  return new Intl.DateTimeFormat(state.lang === 'de' ? 'de-DE' : 'en-GB', { hour: '2-digit', minute: '2-digit' }).format(d);
}

function newKey() {
  if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function storageGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function storageSet(key, value) {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    /* private mode: nothing to remember */
  }
}

function pageUrl() {
  return `${location.origin}${location.pathname}`;
}

/** fetch with a time limit; never throws. {ok, status, data, network} */
async function api(path, { method = 'GET', body, headers = {}, timeout = TIMEOUT_MS, blob = false } = {}) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeout);
  const h2 = { Accept: blob ? 'application/pdf' : 'application/json', ...headers };
  if (body !== undefined) h2['Content-Type'] = 'application/json';
  try {
    const res = await fetch(path, {
      method,
      headers: h2,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctrl.signal,
      cache: 'no-store',
      credentials: 'same-origin',
      referrerPolicy: 'no-referrer',
    });
    let data = null;
    if (blob && res.ok) data = await res.blob();
    else {
      const text = await res.text();
      try {
        data = text ? JSON.parse(text) : null;
      } catch {
        data = null;
      }
    }
    return {
      ok: res.ok,
      status: res.status,
      data,
      type: res.headers.get('content-type') || '',
      disposition: res.headers.get('content-disposition') || '',
      network: false,
    };
  } catch {
    return { ok: false, status: 0, data: null, type: '', network: true };
  } finally {
    clearTimeout(timer);
  }
}

function announce(message, kind = 'info') {
  const box = $('#notice');
  box.replaceChildren();
  if (!message) return;
  box.append(h('p', { class: `notice notice-${kind}` }, message));
}

function view() {
  return $('#view');
}

/** Replace the view's content; null children (optional blocks) are skipped. */
function setView(...nodes) {
  view().replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
}

function focusEl(el) {
  if (!el) return;
  if (!el.hasAttribute('tabindex') && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) el.setAttribute('tabindex', '-1');
  el.focus({ preventScroll: true });
  el.scrollIntoView({ block: 'start' });
}

function destroyCharts() {
  for (const c of state.charts) c.destroy();
  state.charts = [];
}

// --- language -------------------------------------------------------------------------------
function initialLang() {
  if (EMBED && LANGS.includes(EMBED.lang)) return EMBED.lang;
  const saved = storageGet(STORE_LANG);
  if (LANGS.includes(saved)) return saved;
  if (state.brand && LANGS.includes(state.brand.language)) return state.brand.language;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  return nav.toLowerCase().startsWith('de') ? 'de' : 'en';
}

function applyLang(lang) {
  state.lang = LANGS.includes(lang) ? lang : 'en';
  storageSet(STORE_LANG, state.lang);
  document.documentElement.lang = state.lang;
  const tx = t();
  $('#brand-name').textContent = state.brand ? state.brand.display_name : tx.brand;
  $('#skip-link').textContent = tx.skip;
  $('#footer-text').textContent = tx.footer;
  $('.lang-switch').setAttribute('aria-label', tx.langGroup);
  for (const b of document.querySelectorAll('.lang-switch button')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === state.lang));
  }
  setTitle();
}

function setTitle(part) {
  const brand = state.brand ? state.brand.display_name : t().brand;
  document.title = part ? `${part} – ${brand}` : brand;
}

// --- white label ----------------------------------------------------------------------------
function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function mix(rgb, other, share) {
  const c = rgb.map((v, i) => Math.round(v * (1 - share) + other[i] * share));
  return `rgb(${c.join(', ')})`;
}

/** The partner's display name, logo, colour and imprint/privacy links (chalicelib/branding.py:
 * validated server side; the logo is a data: URL, allowed by img-src 'self' data:). */
function applyBranding(b) {
  if (!b || typeof b.display_name !== 'string') return;
  state.brand = b;
  const root = document.documentElement;
  root.classList.add('branded');
  if (/^#[0-9a-f]{6}$/i.test(b.primary_color || '')) {
    const rgb = hexToRgb(b.primary_color);
    root.style.setProperty('--accent', b.primary_color);
    root.style.setProperty('--accent-dark', mix(rgb, [0, 0, 0], 0.25));
    root.style.setProperty('--accent-mid', mix(rgb, [255, 255, 255], 0.7));
    root.style.setProperty('--accent-soft', mix(rgb, [255, 255, 255], 0.88));
    root.style.setProperty('--accent-fill', `rgba(${rgb.join(', ')}, 0.18)`);
    root.style.setProperty('--focus', mix(rgb, [0, 0, 0], 0.35));
  }
  const brand = $('.brand');
  const old = $('#brand-logo');
  if (old) old.remove();
  if (typeof b.logo === 'string' && b.logo.startsWith('data:image/')) {
    const mark = $('.brand-mark');
    if (mark) mark.hidden = true;
    brand.prepend(h('img', { id: 'brand-logo', class: 'brand-logo', src: b.logo, alt: '' }));
  }
  $('#brand-name').textContent = b.display_name;
  let links = $('#footer-links');
  if (!links) {
    links = h('p', { id: 'footer-links', class: 'footer-links' });
    $('.site-footer .wrap').append(links);
  }
  const items = [];
  const https = (u) => typeof u === 'string' && /^https:\/\/[^\s]+$/.test(u);
  if (https(b.imprint_url)) items.push(h('a', { href: b.imprint_url, target: '_blank', rel: 'noopener noreferrer', id: 'imprint-link' }, state.lang === 'de' ? 'Impressum' : 'Imprint'));
  if (https(b.privacy_url)) items.push(h('a', { href: b.privacy_url, target: '_blank', rel: 'noopener noreferrer', id: 'privacy-link' }, state.lang === 'de' ? 'Datenschutz' : 'Privacy'));
  links.replaceChildren(...items.flatMap((a, i) => (i ? [' · ', a] : [a])));
  setTitle();
}

async function switchLang(lang) {
  if (lang === state.lang || !LANGS.includes(lang)) return;
  applyLang(lang);
  if (state.brand) applyBranding(state.brand); // link texts
  const seq = ++state.seq;
  if (state.view === 'result' && state.result) {
    await showResult(state.result.id, state.result.token, null, state.result.fresh);
    return;
  }
  if (state.view === 'form' || state.view === 'intro') {
    const version = state.q ? state.q.version : 'latest';
    const q = await loadQuestionnaire(lang, version);
    if (seq !== state.seq) return;
    if (!q) {
      renderLoadError(t().loadFailed, () => switchLang(lang));
      return;
    }
    setQuestionnaire(q);
    // server messages are English only; re-word the ones we know, keep the others
    for (const [qid, msg] of Object.entries(state.errors)) {
      if (msg === TEXT.en.required || msg === TEXT.de.required) state.errors[qid] = t().required;
    }
    state.submission = null; // the body names the language
    if (state.view === 'form') {
      renderForm(null);
      if (state.draft.id) scheduleSave();
    } else renderIntro();
    return;
  }
  if (state.view === 'message' && state.retry) state.retry();
}

// --- questionnaire --------------------------------------------------------------------------
async function loadQuestionnaire(lang, version = 'latest') {
  const key = `${lang}|${version}`;
  if (qCache.has(key)) return qCache.get(key);
  const r = await api(`v1/questionnaires/${QUESTIONNAIRE_ID}/${encodeURIComponent(version)}?lang=${lang}`);
  if (!r.ok || !r.data || !Array.isArray(r.data.sections)) return null;
  qCache.set(key, r.data);
  qCache.set(`${lang}|${r.data.version}`, r.data);
  return r.data;
}

function setQuestionnaire(q) {
  state.q = q;
  state.index = new Map();
  let n = 0;
  q.sections.forEach((s, si) => {
    for (const question of s.questions) {
      n += 1;
      state.index.set(question.id, { question, section: si, number: n });
    }
  });
  if (state.section >= q.sections.length) state.section = q.sections.length - 1;
  applyPrefill();
}

/** The partner's prefill answers (industry, size, country: validated by the server against
 * the questionnaire; checked again here), never over an answer given already. */
function applyPrefill() {
  if (!EMBED || !EMBED.prefill || !state.q) return;
  for (const [qid, opt] of Object.entries(EMBED.prefill)) {
    const entry = state.index.get(qid);
    if (state.answers[qid] === undefined && entry && entry.question.options.some((o) => o.id === opt)) state.answers[qid] = opt;
  }
}

/** Questions the partner answered already and asked to hide (hide_prefilled). */
function hiddenQuestion(qid) {
  return Boolean(EMBED && EMBED.hide_prefilled && EMBED.prefill && qid in EMBED.prefill && state.answers[qid] === EMBED.prefill[qid]);
}

function allQuestions() {
  return state.q.sections.flatMap((s) => s.questions);
}

function answeredCount(questions = allQuestions()) {
  return questions.filter((x) => state.answers[x.id] !== undefined).length;
}

function missingRequired() {
  return allQuestions().filter((x) => x.required && state.answers[x.id] === undefined).map((x) => x.id);
}

function firstOpenSection() {
  const i = state.q.sections.findIndex((s) => s.questions.some((x) => state.answers[x.id] === undefined));
  return i === -1 ? state.q.sections.length - 1 : i;
}

/** Only answers the questionnaire knows survive (a draft may be from an older version). */
function knownAnswers(answers) {
  const out = {};
  for (const [qid, opt] of Object.entries(answers || {})) {
    const entry = state.index.get(qid);
    if (entry && entry.question.options.some((o) => o.id === opt)) out[qid] = opt;
  }
  return out;
}

// --- views: loading, messages ---------------------------------------------------------------
function renderLoading() {
  destroyCharts();
  setView(h('p', { class: 'loading', role: 'status' }, t().loading));
}

function renderLoadError(message, retry) {
  destroyCharts();
  state.view = 'message';
  state.retry = retry;
  const btn = h('button', { type: 'button', class: 'btn btn-primary', onclick: () => retry() }, t().tryAgain);
  setView(
    h('div', { class: 'panel alert alert-error', role: 'alert' }, h('p', {}, message), h('p', {}, btn)),
  );
}

// --- intro ----------------------------------------------------------------------------------
async function showIntro() {
  state.view = 'intro';
  const seq = ++state.seq;
  if (!state.q || state.q.language !== state.lang) {
    renderLoading();
    const q = await loadQuestionnaire(state.lang);
    if (seq !== state.seq) return;
    if (!q) {
      renderLoadError(t().loadFailed, showIntro);
      return;
    }
    setQuestionnaire(q);
  }
  renderIntro();
}

function emitReady() {
  if (state.emitted.ready) return;
  state.emitted.ready = true;
  emit('ready', { language: state.lang, questionnaire: state.q ? { id: state.q.id, version: state.q.version } : null });
}

function renderIntro() {
  destroyCharts();
  const tx = t();
  const q = state.q;
  const total = allQuestions().length;
  const minutes = Math.max(5, Math.round((total * 15) / 60 / 5) * 5);
  const saved = storageGet(STORE_DRAFT);
  setTitle();
  setView(
    h(
      'section',
      { class: 'intro', 'aria-labelledby': 'intro-title' },
      h('h1', { id: 'intro-title', tabindex: '-1' }, q.title),
      h('p', { class: 'facts' }, tx.facts(total, q.sections.length, minutes)),
      h('p', { class: 'lead' }, q.description),
      h('h2', {}, tx.whatYouGet),
      h('ul', { class: 'gets' }, tx.gets.map((g) => h('li', {}, g))),
      h('p', { class: 'muted' }, EMBED ? tx.savedNoteEmbed : tx.savedNote),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-primary btn-large', id: 'start-btn', onclick: startForm }, tx.start),
        saved
          ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'continue-btn', onclick: () => resumeDraft(saved) }, tx.continueDraft)
          : null,
      ),
    ),
  );
  emitReady();
}

function startForm() {
  announce('');
  state.view = 'form';
  state.section = 0;
  state.startedAt = Date.now();
  applyPrefill();
  state.emitted.section = -1; // a new start shows its first section again
  emit('started', { questionnaire: { id: state.q.id, version: state.q.version } });
  renderForm('heading');
}

// --- drafts ---------------------------------------------------------------------------------
async function resumeDraft(id) {
  const seq = ++state.seq;
  state.view = 'loading';
  renderLoading();
  setUrl({ draft: id });
  const r = await api(`v1/drafts/${encodeURIComponent(id)}`);
  if (seq !== state.seq) return;
  if (r.network || r.status >= 500) {
    renderLoadError(t().draftLoadFailed, () => resumeDraft(id));
    return;
  }
  if (!r.ok || !r.data) {
    if (storageGet(STORE_DRAFT) === id) storageSet(STORE_DRAFT, null);
    setUrl({});
    state.q = state.q && state.q.language === state.lang ? state.q : null;
    await showIntro();
    announce(t().draftMissing, 'warning');
    return;
  }
  const d = r.data;
  applyLang(d.language);
  const version = (d.questionnaire && d.questionnaire.version) || 'latest';
  const q = (await loadQuestionnaire(state.lang, version)) || (await loadQuestionnaire(state.lang));
  if (seq !== state.seq) return;
  if (!q) {
    renderLoadError(t().loadFailed, () => resumeDraft(id));
    return;
  }
  setQuestionnaire(q);
  state.answers = knownAnswers(d.answers);
  state.errors = {};
  state.generalErrors = [];
  state.submission = null;
  Object.assign(state.draft, { id: d.id, expiresAt: d.expires_at, disabled: false, status: 'saved', failures: 0 });
  state.draft.savedAt = new Date();
  storageSet(STORE_DRAFT, d.id);
  state.startedAt = Date.now();
  state.section = firstOpenSection();
  state.view = 'form';
  renderForm('heading');
  announce(t().draftResumed, 'success');
}

function setUrl({ draft = null, result = null }) {
  if (EMBED) return; // the frame's address keeps the partner's settings
  const search = draft ? `?draft=${encodeURIComponent(draft)}` : '';
  const hash = result ? `#result=${result}` : '';
  history.replaceState(null, '', `${location.pathname}${search}${hash}`);
}

function scheduleSave(delay = SAVE_DELAY_MS) {
  const d = state.draft;
  if (d.disabled) return;
  clearTimeout(d.timer);
  d.timer = setTimeout(saveDraft, delay);
}

function draftBody() {
  return { questionnaire: state.q.id, version: state.q.version, language: state.lang, answers: { ...state.answers } };
}

async function saveDraft() {
  const d = state.draft;
  d.timer = null;
  if (d.disabled || !state.q) return;
  if (d.saving) {
    d.dirty = true;
    return;
  }
  d.saving = true;
  d.dirty = false;
  setSaveStatus('saving');
  const body = draftBody();
  let r;
  if (d.id) {
    r = await api(`v1/drafts/${encodeURIComponent(d.id)}`, { method: 'PUT', body });
    if (r.status === 404 && !d.disabled) r = await api('v1/drafts', { method: 'POST', body }); // expired
  } else {
    r = await api('v1/drafts', { method: 'POST', body });
  }
  d.saving = false;
  if (d.disabled) return; // submitted meanwhile
  if (r.ok && r.data && r.data.id) {
    const isNew = d.id !== r.data.id;
    d.id = r.data.id;
    d.expiresAt = r.data.expires_at;
    d.failures = 0;
    d.savedAt = new Date();
    storageSet(STORE_DRAFT, d.id);
    if (isNew && state.view === 'form') setUrl({ draft: d.id });
    setSaveStatus('saved');
    if (d.dirty) scheduleSave(0);
  } else if (r.network || r.status >= 500 || r.status === 429) {
    d.failures += 1;
    setSaveStatus('failed');
    scheduleSave(Math.min(30000, 1000 * 2 ** d.failures));
  } else {
    setSaveStatus('rejected');
  }
}

/** Send a pending save when the page is hidden or closed (best effort). */
function flushSave() {
  const d = state.draft;
  if (!d.timer || !d.id || d.disabled || !state.q) return;
  clearTimeout(d.timer);
  d.timer = null;
  try {
    fetch(`v1/drafts/${encodeURIComponent(d.id)}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(draftBody()),
      keepalive: true,
      credentials: 'same-origin',
    }).catch(() => {});
  } catch {
    /* nothing more to do while the page goes away */
  }
}

function setSaveStatus(status) {
  state.draft.status = status;
  if (state.view === 'form') renderSaveBox();
}

function renderSaveBox() {
  const box = $('#save-box');
  if (!box) return;
  const tx = t();
  const d = state.draft;
  const statusEl = $('#save-status');
  const texts = {
    saving: tx.saving,
    saved: d.savedAt ? tx.saved(formatTime(d.savedAt)) : '',
    failed: tx.saveFailed,
    rejected: tx.saveRejected,
    idle: '',
  };
  statusEl.textContent = texts[d.status] || '';
  statusEl.className = `save-status save-${d.status}`;
  const resume = $('#resume');
  if (!d.id || EMBED) {
    resume.hidden = true;
    return;
  }
  resume.hidden = false;
  const link = `${pageUrl()}?draft=${encodeURIComponent(d.id)}`;
  $('#resume-text').textContent = tx.resumeText(d.expiresAt ? formatDate(d.expiresAt) : '');
  $('#resume-link').value = link;
}

async function copyFrom(inputId, statusId) {
  const input = document.getElementById(inputId);
  const status = document.getElementById(statusId);
  let ok = false;
  try {
    await navigator.clipboard.writeText(input.value);
    ok = true;
  } catch {
    input.select();
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
  }
  status.textContent = ok ? t().copied : t().copyFailed;
}

// --- the questionnaire form -----------------------------------------------------------------
function renderForm(focus) {
  destroyCharts();
  const tx = t();
  const q = state.q;
  const i = state.section;
  const sec = q.sections[i];
  const last = i === q.sections.length - 1;
  const total = allQuestions().length;
  const answered = answeredCount();
  setTitle(sec.title);
  emitReady();
  if (state.emitted.section !== i) {
    state.emitted.section = i;
    emit('section_changed', { index: i, count: q.sections.length, section_id: sec.id || null, title: sec.title });
  }

  const form = h(
    'form',
    { id: 'qform', class: 'qform', novalidate: true, onsubmit: onFormSubmit },
    h(
      'section',
      { class: 'section', 'aria-labelledby': 'section-title' },
      h('p', { class: 'eyebrow', id: 'section-of' }, tx.sectionOf(i + 1, q.sections.length)),
      h('h1', { id: 'section-title', tabindex: '-1' }, sec.title),
      sec.description ? h('p', { class: 'section-desc' }, sec.description) : null,
      i === 0 ? h('p', { class: 'hint' }, tx.allRequired) : null,
      sec.questions.filter((x) => !hiddenQuestion(x.id)).map(renderQuestion),
    ),
    last ? renderSubmitFailure() : null,
    h(
      'div',
      { class: 'form-nav' },
      i > 0
        ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'back-btn', onclick: () => goToSection(i - 1) }, h('span', { 'aria-hidden': 'true' }, '← '), tx.back)
        : h('span'),
      last
        ? h(
            'button',
            { type: 'submit', class: 'btn btn-primary', id: 'submit-btn', disabled: state.submitting, 'aria-busy': state.submitting ? 'true' : null },
            state.submitting ? tx.submitting : tx.submit,
          )
        : h('button', { type: 'submit', class: 'btn btn-primary', id: 'next-btn' }, tx.next, h('span', { 'aria-hidden': 'true' }, ' →')),
    ),
  );

  setView(
    h(
      'div',
      { class: 'form-top' },
      h(
        'div',
        { class: 'progress-row' },
        h('progress', { id: 'progress', max: String(total), value: String(answered), 'aria-label': tx.progress }),
        h('p', { id: 'progress-text', class: 'progress-text' }, tx.answeredOf(answered, total)),
      ),
      renderToc(),
    ),
    renderErrorSummary(),
    form,
    h(
      'div',
      { class: 'save-box', id: 'save-box' },
      h('p', { id: 'save-status', class: 'save-status' }),
      h(
        'div',
        { id: 'resume', class: 'resume', hidden: true },
        h('h2', {}, tx.resumeTitle),
        h('p', { id: 'resume-text' }),
        h(
          'div',
          { class: 'copy-row' },
          h('label', { for: 'resume-link', class: 'visually-hidden' }, tx.resumeLinkLabel),
          h('input', { id: 'resume-link', type: 'text', readonly: true, class: 'link-input', onfocus: (e) => e.target.select() }),
          h('button', { type: 'button', class: 'btn btn-secondary', id: 'copy-resume', onclick: () => copyFrom('resume-link', 'resume-copied') }, tx.copy),
        ),
        h('p', { id: 'resume-copied', class: 'copy-status', role: 'status' }),
      ),
    ),
  );
  renderSaveBox();

  if (focus === 'heading') {
    window.scrollTo(0, 0);
    $('#section-title').focus({ preventScroll: true });
  } else if (focus === 'error') {
    focusFirstError();
  } else if (focus === 'failure') {
    focusEl($('#submit-problem'));
  }
}

function renderToc() {
  const tx = t();
  const q = state.q;
  const done = q.sections.filter((s) => s.questions.every((x) => state.answers[x.id] !== undefined)).length;
  return h(
    'details',
    { class: 'toc', id: 'toc' },
    h('summary', {}, tx.sections, ' ', h('span', { class: 'toc-count', id: 'toc-count' }, `(${done}/${q.sections.length})`)),
    h(
      'ol',
      {},
      q.sections.map((s, si) => {
        const a = answeredCount(s.questions);
        const complete = a === s.questions.length;
        return h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: `toc-item${complete ? ' toc-complete' : ''}`,
              'aria-current': si === state.section ? 'step' : null,
              dataset: { section: String(si) },
              onclick: () => goToSection(si),
            },
            h('span', { class: 'toc-title' }, s.title),
            h('span', { class: 'toc-done', id: `toc-done-${si}` }, complete ? '✓ ' : '', tx.sectionsDone(a, s.questions.length)),
          ),
        );
      }),
    ),
  );
}

function updateProgress() {
  const tx = t();
  const total = allQuestions().length;
  const answered = answeredCount();
  const bar = $('#progress');
  if (bar) bar.value = answered;
  const text = $('#progress-text');
  if (text) text.textContent = tx.answeredOf(answered, total);
  const toc = $('#toc');
  if (toc) {
    const open = toc.open;
    const fresh = renderToc();
    fresh.open = open;
    toc.replaceWith(fresh);
  }
}

function questionDescribedBy(question) {
  const ids = [];
  if (question.help) ids.push(`help-${question.id}`);
  if (state.errors[question.id]) ids.push(`err-${question.id}`);
  return ids.length ? ids.join(' ') : null;
}

function renderQuestion(question) {
  const tx = t();
  const entry = state.index.get(question.id);
  const err = state.errors[question.id];
  const describedBy = questionDescribedBy(question);
  const number = h('span', { class: 'q-num' }, `${entry.number}.`);
  const optional = question.required ? null : h('span', { class: 'q-optional' }, ` ${tx.optional}`);
  const help = question.help ? h('p', { class: 'help', id: `help-${question.id}` }, question.help) : null;
  const error = h(
    'p',
    { class: 'field-error', id: `err-${question.id}`, hidden: !err },
    h('span', { class: 'visually-hidden' }, `${tx.errorPrefix} `),
    h('span', { class: 'field-error-text' }, err || ''),
  );
  const cls = `question${err ? ' has-error' : ''}${question.kind === 'context' ? ' question-context' : ''}`;

  if (question.options.length > SELECT_MIN_OPTIONS) {
    const id = `in-${question.id}`;
    return h(
      'div',
      { class: `${cls} question-select`, id: `q-${question.id}`, dataset: { qid: question.id } },
      h('label', { class: 'q-text', for: id }, number, ' ', question.text, optional),
      help,
      error,
      h(
        'select',
        {
          id,
          name: `a-${question.id}`,
          required: question.required,
          'aria-describedby': describedBy,
          'aria-invalid': err ? 'true' : null,
          onchange: (e) => onAnswer(question.id, e.target.value || undefined),
        },
        h('option', { value: '' }, tx.choose),
        question.options.map((o) => h('option', { value: o.id, selected: state.answers[question.id] === o.id }, o.label)),
      ),
    );
  }
  return h(
    'fieldset',
    { class: cls, id: `q-${question.id}`, dataset: { qid: question.id }, 'aria-describedby': describedBy },
    h('legend', { class: 'q-text' }, number, ' ', question.text, optional),
    help,
    error,
    h(
      'div',
      { class: 'options' },
      question.options.map((o) => {
        const id = `o-${question.id}-${o.id}`;
        const neutral = question.kind !== 'context' && o.excluded;
        return h(
          'div',
          { class: `option${neutral ? ' option-neutral' : ''}` },
          h('input', {
            type: 'radio',
            id,
            name: `a-${question.id}`,
            value: o.id,
            required: question.required,
            checked: state.answers[question.id] === o.id,
            'aria-invalid': err ? 'true' : null,
            onchange: () => onAnswer(question.id, o.id),
          }),
          h('label', { for: id }, o.label),
        );
      }),
    ),
  );
}

/** Show or clear one question's error in place (no re-render, so focus stays). */
function setQuestionError(qid, message) {
  if (message) state.errors[qid] = message;
  else delete state.errors[qid];
  const box = document.getElementById(`q-${qid}`);
  if (!box) return;
  const entry = state.index.get(qid);
  box.classList.toggle('has-error', Boolean(message));
  const err = document.getElementById(`err-${qid}`);
  err.hidden = !message;
  $('.field-error-text', err).textContent = message || '';
  const describedBy = questionDescribedBy(entry.question);
  const target = box.tagName === 'FIELDSET' ? box : $('select', box);
  if (describedBy) target.setAttribute('aria-describedby', describedBy);
  else target.removeAttribute('aria-describedby');
  for (const input of box.querySelectorAll('input, select')) {
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

function onAnswer(qid, value) {
  if (value === undefined) delete state.answers[qid];
  else state.answers[qid] = value;
  state.submission = null; // a changed body needs a new idempotency key
  if (state.errors[qid] && value !== undefined) {
    setQuestionError(qid, null);
    const summary = $('#error-summary');
    if (summary) summary.replaceWith(renderErrorSummary() || h('div', { id: 'error-summary', hidden: true }));
  }
  updateProgress();
  scheduleSave();
}

function goToSection(i, focus = 'heading') {
  state.section = Math.max(0, Math.min(i, state.q.sections.length - 1));
  renderForm(focus);
}

function onFormSubmit(e) {
  e.preventDefault();
  if (state.section < state.q.sections.length - 1) {
    goToSection(state.section + 1);
    return;
  }
  submit();
}

function sortedErrorIds() {
  return Object.keys(state.errors)
    .filter((id) => state.index.has(id))
    .sort((a, b) => state.index.get(a).number - state.index.get(b).number);
}

function renderErrorSummary() {
  const ids = sortedErrorIds();
  const general = state.generalErrors;
  if (!ids.length && !general.length) return null;
  const tx = t();
  const shown = ids.slice(0, 8);
  return h(
    'div',
    { class: 'panel alert alert-error error-summary', id: 'error-summary', role: 'alert', 'aria-labelledby': 'error-summary-title' },
    h('h2', { id: 'error-summary-title' }, tx.errorSummary(ids.length + general.length)),
    h(
      'ul',
      {},
      shown.map((id) => {
        const { question, number } = state.index.get(id);
        return h(
          'li',
          {},
          h(
            'a',
            {
              href: `#q-${id}`,
              class: 'summary-link',
              onclick: (e) => {
                e.preventDefault(); // keep the address (?draft=...) as it is
                jumpToQuestion(id);
              },
            },
            `${number}. ${question.text}`,
          ),
          h('span', { class: 'summary-error' }, ` – ${state.errors[id]}`),
        );
      }),
      ids.length > shown.length ? h('li', {}, tx.moreErrors(ids.length - shown.length)) : null,
      general.map((m) => h('li', {}, m)),
    ),
  );
}

function jumpToQuestion(qid) {
  const entry = state.index.get(qid);
  if (!entry) return;
  if (entry.section !== state.section) {
    state.section = entry.section;
    renderForm(null);
  }
  focusQuestion(qid);
}

function focusQuestion(qid) {
  const box = document.getElementById(`q-${qid}`);
  if (!box) return;
  const input = $('input:checked', box) || $('input, select', box);
  box.scrollIntoView({ block: 'center' });
  if (input) input.focus({ preventScroll: true });
}

function focusFirstError() {
  const ids = sortedErrorIds();
  if (ids.length) focusQuestion(ids[0]);
  else focusEl($('#error-summary'));
}

function showErrors() {
  const ids = sortedErrorIds();
  if (ids.length) state.section = state.index.get(ids[0]).section;
  renderForm('error');
}

// --- submission -----------------------------------------------------------------------------
function renderSubmitFailure() {
  const f = state.submitFailure;
  if (!f) return null;
  const tx = t();
  return h(
    'div',
    { class: 'panel alert alert-error', id: 'submit-problem', role: 'alert', tabindex: '-1' },
    h('h2', {}, tx.submitFailedTitle),
    h('p', {}, f.message),
    f.detail ? h('p', { class: 'muted' }, f.detail) : null,
    h('button', { type: 'button', class: 'btn btn-primary', id: 'retry-btn', onclick: () => submit() }, tx.tryAgain),
  );
}

function pointerToQuestion(pointer) {
  const m = /^\/answers\/(.+)$/.exec(pointer || '');
  if (!m) return null;
  const id = m[1].replace(/~1/g, '/').replace(/~0/g, '~');
  return state.index.has(id) ? id : null;
}

function localiseDetail(detail) {
  if (!detail) return t().required;
  if (detail.trim().toLowerCase() === 'an answer is required') return t().required;
  return capitalise(detail);
}

async function submit() {
  if (state.submitting) return;
  const tx = t();
  state.generalErrors = [];
  const missing = missingRequired();
  if (missing.length) {
    state.errors = Object.fromEntries(missing.map((id) => [id, tx.required]));
    state.submitFailure = null;
    showErrors();
    return;
  }
  state.errors = {};
  if (!state.submission) {
    const seconds = Math.min(MAX_DURATION, Math.max(0, Math.round((Date.now() - state.startedAt) / 1000)));
    const body = {
      questionnaire: state.q.id,
      version: state.q.version,
      language: state.lang,
      answers: { ...state.answers },
      duration_seconds: seconds,
    };
    if (state.draft.id) body.draft_id = state.draft.id;
    state.submission = { key: newKey(), body };
  }
  const { key, body } = state.submission;
  state.submitting = true;
  state.submitFailure = null;
  renderForm(null);
  const submitBtn = $('#submit-btn');
  if (submitBtn) submitBtn.focus({ preventScroll: true });
  clearTimeout(state.draft.timer);
  state.draft.timer = null;

  const r = EMBED
    ? await api('v1/partner/assessments', {
        method: 'POST',
        body: EMBED.reference && !embedSecret ? { ...body, reference: EMBED.reference } : body,
        headers: { 'Idempotency-Key': key, Authorization: `Bearer ${embedSecret || EMBED.key}` },
        timeout: SUBMIT_TIMEOUT_MS,
      })
    : await api('v1/assessments', { method: 'POST', body, headers: { 'Idempotency-Key': key }, timeout: SUBMIT_TIMEOUT_MS });
  state.submitting = false;
  if (r.ok && r.data && r.data.token) {
    finishSubmission(r.data);
    return;
  }
  if (state.view !== 'form') return;
  if (r.network || r.status >= 500 || r.status === 429) {
    state.submitFailure = { message: r.network ? tx.submitNetwork : tx.submitServer };
    renderForm('failure');
    return;
  }
  const problem = r.data && typeof r.data === 'object' ? r.data : {};
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  for (const e of errors) {
    const qid = pointerToQuestion(e.pointer);
    if (qid) state.errors[qid] = localiseDetail(e.detail);
    else state.generalErrors.push(capitalise(e.detail || problem.detail || ''));
  }
  if (r.status === 409) {
    state.submission = null;
    state.submitFailure = { message: tx.submitConflict };
    renderForm('failure');
    return;
  }
  if (Object.keys(state.errors).length) {
    state.submission = null;
    showErrors();
    return;
  }
  state.generalErrors = [];
  state.submission = null;
  state.submitFailure = { message: tx.submitOther, detail: problem.detail ? capitalise(problem.detail) : null };
  renderForm('failure');
}

function finishSubmission(data) {
  const d = state.draft;
  d.disabled = true;
  clearTimeout(d.timer);
  d.timer = null;
  storageSet(STORE_DRAFT, null);
  state.submission = null;
  state.submitFailure = null;
  state.errors = {};
  setUrl({ result: data.token });
  emit('submitted', { assessment_id: data.id });
  showResult(data.id, data.token, data, true);
}

function resetForNewAssessment() {
  state.answers = {};
  state.errors = {};
  state.generalErrors = [];
  state.submission = null;
  state.submitFailure = null;
  state.result = null;
  state.section = 0;
  clearTimeout(state.draft.timer);
  state.draft = { id: null, expiresAt: null, timer: null, saving: false, dirty: false, failures: 0, status: 'idle', disabled: false };
  setUrl({});
  announce('');
  showIntro();
}

// --- result ---------------------------------------------------------------------------------
/** "#result=<id>.<secret>" (the token itself has the form <id>.<secret>); "#result=<id>.<token>"
 * is accepted as well. */
function parseResultHash() {
  const m = /^#result=(.+)$/.exec(location.hash);
  if (!m) return null;
  let value;
  try {
    value = decodeURIComponent(m[1]);
  } catch {
    value = m[1];
  }
  const dot = value.indexOf('.');
  if (dot < 1) return { id: value, token: value };
  const id = value.slice(0, dot);
  const rest = value.slice(dot + 1);
  return { id, token: rest.startsWith(`${id}.`) ? rest : value };
}

async function showResult(id, token, data, fresh = false) {
  const seq = ++state.seq;
  state.view = 'result';
  state.result = { id, token, data, fresh };
  if (!data) {
    renderLoading();
    const r = await api(`v1/assessments/${encodeURIComponent(id)}?lang=${state.lang}`, { headers: { 'X-Result-Token': token } });
    if (seq !== state.seq) return;
    if (r.network || r.status >= 500) {
      renderLoadError(t().resultLoadFailed, () => showResult(id, token, null, fresh));
      return;
    }
    if (!r.ok || !r.data || !r.data.result) {
      destroyCharts();
      state.view = 'message';
      setView(
        h(
          'div',
          { class: 'panel alert alert-warning', role: 'alert' },
          h('p', {}, t().resultMissing),
          h('p', {}, h('button', { type: 'button', class: 'btn btn-primary', onclick: resetForNewAssessment }, t().newAssessment)),
        ),
      );
      return;
    }
    data = r.data;
    state.result.data = data;
  }
  const version = (data.questionnaire && data.questionnaire.version) || 'latest';
  const q = await loadQuestionnaire(state.lang, version);
  if (seq !== state.seq) return;
  state.result.q = q;
  if (!EMBED && !state.brand) loadBranding(id, token, seq, data, q);
  renderResult(data, q);
}

/** A partner's result opened on our own page: show it in the partner's white label. */
async function loadBranding(id, token, seq, data, q) {
  const r = await api(`v1/assessments/${encodeURIComponent(id)}/branding`, { headers: { 'X-Result-Token': token } });
  if (seq !== state.seq || !r.ok || !r.data || !r.data.branding) return;
  applyBranding(r.data.branding);
}

function scoreText(score) {
  return score === null || score === undefined ? t().noScore : t().outOf(score);
}

function renderResult(data, q) {
  destroyCharts();
  const tx = t();
  const r = data.result;
  // embedded: the link opens the result on our own page (in the partner's white label)
  const link = `${EMBED ? new URL('./', location.href).href : pageUrl()}#result=${state.result.token}`;
  setTitle(tx.resultTitle);
  const tierName = r.pyramid.reached_name || tx.noTier;

  setView(
    h(
      'div',
      { class: 'result' },
      h(
        'header',
        { class: 'result-head' },
        h('h1', { id: 'result-title', tabindex: '-1' }, tx.resultTitle),
        data.created_at ? h('p', { class: 'muted' }, tx.resultDate(formatDate(data.created_at))) : null,
      ),
      h(
        'section',
        { class: 'panel keep-link', 'aria-labelledby': 'keep-title' },
        h('h2', { id: 'keep-title' }, tx.keepLinkTitle),
        h('p', {}, tx.keepLinkText),
        h(
          'div',
          { class: 'copy-row' },
          h('label', { for: 'result-link', class: 'visually-hidden' }, tx.resultLinkLabel),
          h('input', { id: 'result-link', type: 'text', readonly: true, class: 'link-input', value: link, onfocus: (e) => e.target.select() }),
          h('button', { type: 'button', class: 'btn btn-secondary', id: 'copy-result', onclick: () => copyFrom('result-link', 'result-copied') }, tx.copy),
        ),
        h('p', { id: 'result-copied', class: 'copy-status', role: 'status' }),
      ),
      h(
        'ul',
        { class: 'cards', 'aria-label': tx.resultTitle },
        h('li', { class: 'card' }, h('span', { class: 'card-label' }, tx.phaseCard), h('span', { class: `card-value${r.phase.number === null ? ' card-value-text' : ''}` }, r.phase.number === null ? tx.notAssessable : String(r.phase.number)), h('span', { class: 'card-sub' }, r.phase.name)),
        h('li', { class: 'card' }, h('span', { class: 'card-label' }, tx.tierCard), h('span', { class: 'card-value card-value-text' }, tierName)),
        r.overall === null
          ? h('li', { class: 'card' }, h('span', { class: 'card-label' }, tx.overall), h('span', { class: 'card-value card-value-text' }, tx.notAssessable))
          : h('li', { class: 'card' }, h('span', { class: 'card-label' }, tx.overall), h('span', { class: 'card-value' }, String(r.overall)), h('span', { class: 'card-sub' }, '/ 100')),
      ),
      renderEvidenceFlag(r),
      h(
        'div',
        { class: 'actions result-actions' },
        h('button', { type: 'button', class: 'btn btn-primary', id: 'report-btn', onclick: downloadReport }, tx.report),
        // a session submits once: no second assessment in the same frame
        embedSecret ? null : h('button', { type: 'button', class: 'btn btn-secondary', id: 'new-btn', onclick: resetForNewAssessment }, tx.newAssessment),
        h('p', { id: 'report-status', class: 'report-status', role: 'status' }),
      ),
      renderLadder(r, q),
      renderPyramid(r),
      renderDimensions(r),
      h(
        'section',
        { class: 'panel', id: 'benchmark', 'aria-labelledby': 'bench-title', 'aria-busy': 'true' },
        h('h2', { id: 'bench-title' }, tx.benchTitle),
        renderInclusion(data.benchmark),
        h('div', { id: 'bench-body' }, h('p', { class: 'loading' }, tx.benchLoading)),
      ),
      renderRecommendations(r, q),
    ),
  );
  const title = $('#result-title');
  window.scrollTo(0, 0);
  title.focus({ preventScroll: true });
  drawRadar(r);
  loadComparison();
  emit('result_shown', { assessment_id: data.id, phase: r.phase.number, overall: r.overall });
}

/** Not assessable / low coverage: a warning above the key figures (null when neither). */
function renderEvidenceFlag(r) {
  const tx = t();
  const cov = r.coverage || {};
  const parts = [];
  if (r.assessable === false) parts.push(tx.notAssessableAll);
  if (cov.low && cov.note) parts.push(cov.note);
  return parts.length ? h('p', { class: 'notice notice-warning evidence-flag', id: 'evidence-flag', role: 'note' }, parts.join(' ')) : null;
}

function renderLadder(r, q) {
  const tx = t();
  const names = new Map();
  if (q) for (const p of q.phases) names.set(p.number, p.name);
  for (const p of r.phase.profile) if (!names.has(p.phase)) names.set(p.phase, p.name);
  if (r.phase.number !== null) names.set(r.phase.number, r.phase.name);
  const met = new Map(r.phase.profile.map((p) => [p.phase, p]));
  const current = r.phase.number;
  const steps = [];
  for (let n = 0; n <= 7; n += 1) {
    const p = met.get(n);
    const state_ = current === null ? 'above' : n === current ? 'current' : n < current ? 'below' : 'above';
    steps.push(
      h(
        'li',
        { class: `step step-${n} step-${state_}${p && p.met ? ' step-met' : ''}`, 'aria-current': n === current ? 'step' : null, dataset: { phase: String(n) } },
        h(
          'span',
          { class: 'step-bar' },
          h('span', { class: 'step-num' }, String(n)),
          p && p.met ? h('span', { class: 'step-check', title: tx.criteriaMet }, h('span', { 'aria-hidden': 'true' }, '✓'), h('span', { class: 'visually-hidden' }, ` ${tx.criteriaMet}`)) : null,
        ),
        h('span', { class: 'step-name' }, names.get(n) || tx.phaseN(n)),
        n === current ? h('span', { class: 'step-you' }, tx.yourPhase) : null,
      ),
    );
  }
  const next = r.phase.next;
  return h(
    'section',
    { class: 'panel', id: 'ladder', 'aria-labelledby': 'ladder-title' },
    h('h2', { id: 'ladder-title' }, tx.ladderTitle),
    h('p', { class: 'muted' }, tx.ladderIntro),
    h('ol', { class: 'ladder', start: '0' }, steps),
    legend([
      ['swatch-current', tx.legendYourPhase],
      ['swatch-below', tx.legendBelow],
      ...(r.phase.met_above && r.phase.met_above.length ? [['swatch-hatch', tx.legendMetAbove]] : []),
    ]),
    h(
      'div',
      { class: 'phase-detail' },
      h('h3', {}, current === null ? r.phase.name : `${tx.phaseN(current)}: ${r.phase.name}`),
      h('p', {}, r.phase.description),
      r.phase.evidence && r.phase.evidence.length
        ? h(
            'div',
            { class: 'phase-evidence', id: 'phase-evidence' },
            h('p', {}, tx.phaseEvidence),
            h('ul', {}, r.phase.evidence.map((e) => h('li', { class: e.shows ? 'shows' : 'lacks', dataset: { qid: e.question_id } }, `${e.text} – ${e.label}`))),
          )
        : null,
    ),
    r.phase.met_above && r.phase.met_above.length
      ? h('p', { class: 'notice notice-warning', id: 'jagged-note' }, r.phase.jagged_note || tx.metAbove(r.phase.met_above.join(', ')))
      : null,
    r.phase.bridged_note ? h('p', { class: 'notice', id: 'bridged-note' }, r.phase.bridged_note) : null,
    next
      ? h(
          'div',
          { class: 'next-phase' },
          h('h3', {}, tx.nextTitle(next.number, next.name)),
          h('p', {}, tx.nextIntro),
          h('ul', { class: 'criteria' }, next.criteria.map((c) => h('li', { dataset: { qid: c.question_id } }, c.text))),
        )
      : h('p', { class: 'notice notice-success' }, tx.topPhase),
  );
}

/** A small legend: [[swatch class, text], ...] */
function legend(items) {
  return h(
    'ul',
    { class: 'legend', 'aria-label': t().legend },
    items.map(([cls, text]) => h('li', {}, h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), text)),
  );
}

function renderPyramid(r) {
  const tx = t();
  const p = r.pyramid;
  const names = new Map(p.tiers.map((x) => [x.id, x.name]));
  const reachedIdx = p.reached ? p.tiers.findIndex((x) => x.id === p.reached) : -1;
  const tiers = p.tiers.map((tier, i) => {
    const cls = ['tier', `tier-${i}`];
    if (i <= reachedIdx) cls.push('tier-reached');
    else if (tier.met) cls.push('tier-met');
    else cls.push('tier-open');
    if (tier.id === p.reached) cls.push('tier-top');
    if (tier.id === p.blocked_by) cls.push('tier-blocked');
    const status = i <= reachedIdx ? tx.tierReached : tier.met ? tx.tierMet : tier.status === 'not_assessable' ? tx.tierNotAssessable : tx.tierNotMet;
    if (tier.status === 'not_assessable') cls.push('tier-unknown');
    return h(
      'li',
      { class: cls.join(' '), dataset: { tier: tier.id }, 'aria-current': tier.id === p.reached ? 'true' : null },
      h('span', { class: 'tier-shape' }, h('span', { class: 'tier-name' }, tier.name), h('span', { class: 'tier-score' }, tier.score === null ? '–' : `${tier.score}`, h('span', { class: 'visually-hidden' }, ` / 100, ${status}`))),
    );
  });
  return h(
    'section',
    { class: 'panel', id: 'pyramid', 'aria-labelledby': 'pyramid-title' },
    h('h2', { id: 'pyramid-title' }, tx.pyramidTitle),
    h('p', { class: 'muted' }, r.scoring_rules === '2' ? tx.pyramidIntro2(p.threshold) : tx.pyramidIntro(p.threshold)),
    h('ol', { class: 'pyramid' }, tiers),
    legend([
      ['swatch-current', tx.legendReached],
      ...(p.tiers.some((x, i) => x.met && i > reachedIdx) ? [['swatch-below', tx.legendMetNotCounted]] : []),
      ...(p.blocked_by ? [['swatch-blocked', tx.legendBlocking]] : []),
      ['swatch-open', tx.legendOpen],
    ]),
    h('p', { class: 'pyramid-reached' }, p.status === 'not_assessable' ? tx.pyramidNotAssessable : p.reached ? tx.reachedTier(p.reached_name) : tx.noTierReached),
    p.blocked_by ? h('p', { class: 'notice notice-warning', id: 'blocked-by' }, tx.blockedBy(names.get(p.blocked_by) || p.blocked_by)) : null,
  );
}

function renderDimensions(r) {
  const tx = t();
  const dims = r.dimensions;
  const list = dims.map((d) => `${d.name} ${d.score === null ? '–' : d.score}`).join(', ');
  return h(
    'section',
    { class: 'panel', id: 'dimensions', 'aria-labelledby': 'dims-title' },
    h('h2', { id: 'dims-title' }, tx.dimsTitle),
    h('p', { class: 'muted' }, tx.dimsIntro),
    h(
      'div',
      { class: 'dims-layout' },
      h('div', { class: 'chart-box chart-radar' }, h('canvas', { id: 'radar', role: 'img', 'aria-label': tx.radarLabel(list) })),
      h(
        'ul',
        { class: 'dim-list' },
        dims.map((d) => {
          const bar = h('span', { class: 'dim-bar-fill' });
          bar.style.width = `${d.score || 0}%`;
          return h(
            'li',
            { dataset: { dim: d.id } },
            h('span', { class: 'dim-name' }, d.name),
            h('span', { class: 'dim-score' }, d.score === null ? '–' : String(d.score)),
            h('span', { class: 'dim-bar', 'aria-hidden': 'true' }, bar),
          );
        }),
      ),
    ),
  );
}

function renderInclusion(b) {
  if (!b) return null;
  const tx = t();
  if (b.included) return h('p', { class: 'muted inclusion' }, tx.included);
  const reasons = (b.exclusion_reasons || []).map((x) => tx.reasons[x] || x);
  return h('p', { class: 'muted inclusion' }, `${tx.excluded} ${reasons.join('; ')}.`);
}

function renderRecommendations(r, q) {
  const tx = t();
  const phaseNames = new Map(q ? q.phases.map((p) => [p.number, p.name]) : []);
  const tierNames = new Map(r.pyramid.tiers.map((x) => [x.id, x.name]));
  const dimNames = new Map(r.dimensions.map((d) => [d.id, d.name]));
  const questionText = new Map(q ? q.sections.flatMap((s) => s.questions.map((x) => [x.id, x.text])) : []);
  const targetLabel = (target) => {
    const [kind, key] = String(target || '').split(':');
    if (kind === 'phase') return tx.targetPhase(key, phaseNames.get(Number(key)) || '');
    if (kind === 'tier') return tx.targetTier(tierNames.get(key) || key);
    if (kind === 'dimension') return tx.targetDim(dimNames.get(key) || key);
    if (kind === 'campaign') return tx.targetCampaign;
    return target || '';
  };
  const recs = r.recommendations || [];
  return h(
    'section',
    { class: 'panel', id: 'recommendations', 'aria-labelledby': 'recs-title' },
    h('h2', { id: 'recs-title' }, tx.recsTitle),
    recs.length ? h('p', { class: 'muted' }, r.scoring_rules === '2' ? tx.recsIntro2 : tx.recsIntro) : h('p', {}, tx.recsNone),
    h(
      'ol',
      { class: 'recs' },
      recs.map((rec) =>
        h(
          'li',
          { class: 'rec', dataset: { qid: rec.question_id } },
          h('span', { class: 'rec-rank', 'aria-hidden': 'true' }, String(rec.rank)),
          h(
            'div',
            { class: 'rec-body' },
            h('p', { class: 'rec-target' }, targetLabel(rec.target)),
            h('p', { class: 'rec-text' }, rec.text),
            questionText.has(rec.question_id) ? h('p', { class: 'rec-question' }, `${tx.question} ${questionText.get(rec.question_id)}`) : null,
          ),
        ),
      ),
    ),
  );
}

// --- charts ---------------------------------------------------------------------------------
let chartLoading = null;
function loadChart() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!chartLoading) {
    chartLoading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = 'static/chart.umd.min.js';
      s.onload = () => (window.Chart ? resolve(window.Chart) : reject(new Error('Chart.js did not load')));
      s.onerror = () => {
        chartLoading = null;
        s.remove();
        reject(new Error('Chart.js did not load'));
      };
      document.head.append(s);
    });
  }
  return chartLoading;
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function wrapLabel(text, max = 16) {
  const words = String(text).split(/\s+/);
  const lines = [];
  let line = '';
  for (const w of words) {
    if (line && (line + ' ' + w).length > max) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines;
}

function chartDefaults(Chart) {
  Chart.defaults.font.family = cssVar('--font') || 'system-ui, sans-serif';
  Chart.defaults.color = cssVar('--text') || '#1b2430';
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
}

async function drawRadar(r) {
  const seq = state.seq;
  let Chart;
  try {
    Chart = await loadChart();
  } catch {
    const box = $('.chart-radar');
    if (box) box.replaceChildren(h('p', { class: 'muted' }, t().chartFailed));
    return;
  }
  const canvas = $('#radar');
  if (!canvas || seq !== state.seq) return;
  chartDefaults(Chart);
  const accent = cssVar('--accent');
  const narrow = window.matchMedia('(max-width: 30rem)').matches;
  state.charts.push(
    new Chart(canvas, {
      type: 'radar',
      data: {
        labels: r.dimensions.map((d) => wrapLabel(d.name, narrow ? 12 : 18)),
        datasets: [
          {
            label: t().dimsTitle,
            data: r.dimensions.map((d) => d.score),
            backgroundColor: cssVar('--accent-fill'),
            borderColor: accent,
            pointBackgroundColor: accent,
            pointRadius: 4,
            borderWidth: 2,
            spanGaps: true,
          },
        ],
      },
      options: {
        plugins: { legend: { display: false } },
        scales: {
          r: {
            min: 0,
            max: 100,
            ticks: { stepSize: 20, backdropColor: 'transparent', color: cssVar('--muted'), font: { size: 10 } },
            pointLabels: { font: { size: narrow ? 11 : 13, weight: '600' }, color: cssVar('--text') },
            grid: { color: cssVar('--line') },
            angleLines: { color: cssVar('--line') },
          },
        },
      },
    }),
  );
}

async function loadComparison() {
  const seq = state.seq;
  const { id, token } = state.result;
  const population = state.population === 'all' ? 'all' : 'users';
  const r = await api(`v1/assessments/${encodeURIComponent(id)}/comparison?lang=${state.lang}&source=auto&population=${population}`, {
    headers: { 'X-Result-Token': token },
  });
  if (seq !== state.seq) return;
  const body = $('#bench-body');
  const section = $('#benchmark');
  if (!body) return;
  section.removeAttribute('aria-busy');
  const tx = t();
  if (r.ok && r.data && typeof r.data === 'object' && r.data.status) {
    renderComparison(body, r.data);
    return;
  }
  if (!r.network && (UNAVAILABLE.has(r.status) || r.ok)) {
    body.replaceChildren(h('p', { class: 'notice notice-info', id: 'bench-message' }, tx.benchUnavailable));
    return;
  }
  body.replaceChildren(
    h(
      'div',
      { class: 'notice notice-warning', id: 'bench-message' },
      h('p', {}, tx.benchFailed),
      h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => { body.replaceChildren(h('p', { class: 'loading' }, tx.benchLoading)); loadComparison(); } }, tx.tryAgain),
    ),
  );
}

function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (typeof v !== 'number') return String(v);
  return new Intl.NumberFormat(state.lang === 'de' ? 'de-DE' : 'en-GB', { maximumFractionDigits: 1 }).format(v);
}

/** "J – Information and communication · 10–49 employees" from the cohort's codes and the
 * questionnaire's option labels; the API's own label when the codes are unknown. */
function cohortLabel(cohort, q) {
  if (!cohort || (!cohort.label && !cohort.key)) return '';
  const tx = t();
  const any = (v) => v === undefined || v === null || v === '*' || v === '';
  if (!q || !('industry' in cohort || 'size' in cohort || 'region' in cohort)) return cohort.label || '';
  const option = (role, id) => {
    const question = q.sections.flatMap((s) => s.questions).find((x) => x.role === role);
    const o = question && question.options.find((x) => x.id === id);
    return o ? o.label : null;
  };
  const parts = [];
  if (!any(cohort.industry)) parts.push(option('industry', cohort.industry));
  if (!any(cohort.size)) parts.push(option('size', cohort.size));
  if (!any(cohort.region)) parts.push(tx.regions[cohort.region] || null);
  if (parts.some((x) => x === null)) return cohort.label || '';
  return parts.length ? parts.join(' · ') : tx.cohortAll;
}

/** Which organisations the peers are (the API's localised label) and a switch to the other
 * population; the comparison is reloaded in place. */
function populationLine(population) {
  const tx = t();
  const other = population.id === 'all' ? 'users' : 'all';
  return h(
    'p',
    { class: 'bench-population' },
    `${tx.population} `,
    h('span', { id: 'bench-population', 'data-population': population.id }, population.label),
    ' ',
    h(
      'button',
      {
        type: 'button',
        class: 'btn btn-secondary btn-small',
        id: 'bench-population-switch',
        onclick: () => {
          state.population = other;
          state.charts = state.charts.filter((chart) => {
            if (chart.canvas && chart.canvas.id === 'bench-chart') {
              chart.destroy();
              return false;
            }
            return true;
          });
          const section = $('#benchmark');
          if (section) section.setAttribute('aria-busy', 'true');
          const body = $('#bench-body');
          if (body) body.replaceChildren(h('p', { class: 'loading' }, tx.benchLoading));
          loadComparison();
        },
      },
      other === 'all' ? tx.populationToAll : tx.populationToUsers,
    ),
  );
}

function renderComparison(body, c) {
  const tx = t();
  const reference = c.source === 'reference';
  const sourceText = reference ? tx.sourceRef : c.source === 'real' ? tx.sourceReal : c.source_label || c.source || '';
  const cohort = c.cohort || {};
  const label = cohortLabel(cohort, state.result && state.result.q);
  const meta = h(
    'div',
    { class: 'bench-meta' },
    h('p', { class: 'bench-source' }, `${tx.source} `, h('span', { class: `badge ${reference ? 'badge-reference' : 'badge-real'}`, id: 'bench-source' }, sourceText)),
    label ? h('p', { class: 'bench-cohort', id: 'bench-cohort' }, tx.cohort(label, cohort.n ?? '–')) : null,
    c.population ? populationLine(c.population) : null,
    c.months && c.months.from ? h('p', { class: 'muted' }, tx.months(c.months.from, c.months.to || c.months.from)) : null,
    reference ? h('p', { class: 'notice notice-warning', id: 'reference-note' }, tx.refNote) : null,
  );
  if (c.status === 'below_threshold') {
    body.replaceChildren(meta, h('p', { class: 'notice notice-info', id: 'bench-message' }, tx.benchBelow(c.k_min ?? 5)));
    return;
  }
  if (c.status !== 'released' || !Array.isArray(c.metrics) || !c.metrics.length) {
    const notAssessable = Boolean(state.result && state.result.data && state.result.data.result && state.result.data.result.assessable === false);
    body.replaceChildren(meta, h('p', { class: 'notice notice-info', id: 'bench-message' }, notAssessable ? tx.benchNotAssessable : tx.benchNoData));
    return;
  }
  const metrics = c.metrics;
  const list = metrics.map((m) => `${m.label || m.metric} ${m.percentile_rank === null || m.percentile_rank === undefined ? tx.notReleased : fmt(m.percentile_rank)}`).join(', ');
  const canvasBox = h('div', { class: 'chart-box chart-bars' }, h('canvas', { id: 'bench-chart', role: 'img', 'aria-label': tx.benchChartLabel(list) }));
  const perBar = window.matchMedia('(max-width: 30rem)').matches ? 40 : 34;
  canvasBox.style.height = `${Math.max(160, metrics.length * perBar + 70)}px`;
  const table = h(
    'details',
    { class: 'table-details' },
    h('summary', {}, tx.tableView),
    h(
      'div',
      { class: 'table-scroll', role: 'region', 'aria-label': tx.benchTitle, tabindex: '0' },
      h(
        'table',
        { class: 'bench-table' },
        h('thead', {}, h('tr', {}, [tx.colMetric, tx.colValue, tx.colPercentile, tx.colMedian, tx.colTop].map((x) => h('th', { scope: 'col' }, x)))),
        h(
          'tbody',
          {},
          metrics.map((m) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, m.label || m.metric),
              h('td', {}, fmt(m.value)),
              h('td', {}, m.percentile_rank === null || m.percentile_rank === undefined ? tx.notReleased : fmt(m.percentile_rank)),
              h('td', {}, fmt(m.median)),
              h('td', {}, fmt(m.p75)),
            ),
          ),
        ),
      ),
    ),
  );
  body.replaceChildren(meta, canvasBox, table);
  drawBars(metrics);
}

async function drawBars(metrics) {
  const seq = state.seq;
  let Chart;
  try {
    Chart = await loadChart();
  } catch {
    const box = $('.chart-bars');
    if (box) box.replaceChildren(h('p', { class: 'muted' }, t().chartFailed));
    return;
  }
  const canvas = $('#bench-chart');
  if (!canvas || seq !== state.seq) return;
  chartDefaults(Chart);
  const narrow = window.matchMedia('(max-width: 30rem)').matches;
  state.charts.push(
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: metrics.map((m) => wrapLabel(m.label || m.metric, narrow ? 14 : 26)),
        datasets: [
          {
            label: t().colPercentile,
            data: metrics.map((m) => (m.percentile_rank === null || m.percentile_rank === undefined ? null : m.percentile_rank)),
            backgroundColor: cssVar('--accent'),
            borderRadius: 3,
            maxBarThickness: 22,
          },
        ],
      },
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: false } },
        scales: {
          x: {
            min: 0,
            max: 100,
            ticks: { stepSize: 25 },
            grid: { color: cssVar('--line') },
            title: { display: true, text: t().percentileAxis, font: { size: narrow ? 10 : 12 } },
          },
          y: { grid: { display: false }, ticks: { autoSkip: false, font: { size: narrow ? 10 : 12 } } },
        },
      },
    }),
  );
}

async function downloadReport() {
  const btn = $('#report-btn');
  const status = $('#report-status');
  const { id, token } = state.result;
  const tx = t();
  btn.disabled = true;
  status.textContent = tx.reportLoading;
  // GET .../report?format=pdf (docs/EXPORTS.md); .../report.pdf as the older spelling
  const opts = { headers: { 'X-Result-Token': token }, blob: true, timeout: 60000 };
  const base = `v1/assessments/${encodeURIComponent(id)}`;
  // the report compares with the same population as the page
  const population = state.population === 'all' ? 'all' : 'users';
  let r = await api(`${base}/report?format=pdf&lang=${state.lang}&population=${population}`, opts);
  if (!r.network && UNAVAILABLE.has(r.status)) r = await api(`${base}/report.pdf?lang=${state.lang}&population=${population}`, opts);
  btn.disabled = false;
  if (!r.network && UNAVAILABLE.has(r.status)) {
    btn.hidden = true;
    status.textContent = tx.reportUnavailable;
    return;
  }
  if (!r.ok || !r.data || !/pdf/i.test(r.type)) {
    status.textContent = tx.reportFailed;
    return;
  }
  const url = URL.createObjectURL(r.data);
  const named = /filename="?([^";]+)"?/i.exec(r.disposition);
  const filename = named ? named[1] : `social-media-maturity-${id.slice(0, 8)}-${state.lang}.pdf`;
  const a = h('a', { href: url, download: filename, class: 'visually-hidden' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  status.textContent = tx.reportDone;
}

// --- start ----------------------------------------------------------------------------------
async function route() {
  if (EMBED && !EMBED.key && !embedSecret) {
    // session flow without its client secret: nothing could be submitted
    state.view = 'message';
    setView(h('div', { class: 'panel alert alert-error', role: 'alert', id: 'embed-error' }, h('p', {}, t().embedNoCredential)));
    emitReady();
    return;
  }
  const res = parseResultHash();
  if (res) {
    await showResult(res.id, res.token, null, false);
    return;
  }
  const draft = new URLSearchParams(location.search).get('draft');
  if (draft) {
    await resumeDraft(draft);
    return;
  }
  await showIntro();
}

function bootEmbed() {
  if (!EMBED) return;
  document.documentElement.classList.add('embed');
  if (EMBED.branding) state.brand = EMBED.branding;
  window.addEventListener('message', (e) => {
    // only the embedding page (its window and its origin) may talk to the widget
    if (e.source !== window.parent || e.origin !== EMBED.parent_origin) return;
    const m = e.data;
    if (!m || typeof m !== 'object' || m.source !== 'smm-host' || m.version !== EMBED_VERSION) return;
    if (m.type === 'set_language' && LANGS.includes(m.language)) switchLang(m.language);
    else if (m.type === 'request_height') emitHeight(true);
  });
  if (typeof ResizeObserver === 'function') new ResizeObserver(() => emitHeight()).observe(document.body);
}

function boot() {
  bootEmbed();
  applyLang(initialLang());
  if (state.brand) applyBranding(state.brand);
  for (const b of document.querySelectorAll('.lang-switch button')) {
    b.addEventListener('click', () => switchLang(b.dataset.lang));
  }
  $('#skip-link').addEventListener('click', (e) => {
    e.preventDefault(); // keep #result=... in the address bar
    const target = $('#view h1') || $('#main');
    focusEl(target);
  });
  window.addEventListener('hashchange', () => {
    if (parseResultHash()) route();
  });
  window.addEventListener('pagehide', flushSave);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flushSave();
  });
  route();
}

boot();
