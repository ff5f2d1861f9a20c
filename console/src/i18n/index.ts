import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en.js';
import zh from './zh-CN.js';

const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('vigil.lang') : null;

// Chinese first: zh-CN unless the user picked English.
void i18n.use(initReactI18next).init({
  resources: { 'zh-CN': { translation: zh }, en: { translation: en } },
  lng: saved === 'en' ? 'en' : 'zh-CN',
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false }, // React escapes; never render translations as HTML
});

export function setLanguage(lang: 'zh-CN' | 'en'): void {
  localStorage.setItem('vigil.lang', lang);
  void i18n.changeLanguage(lang);
}

export default i18n;
